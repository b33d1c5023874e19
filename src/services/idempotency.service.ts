import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import stringify from 'safe-stable-stringify';
import { ApiError } from '../shared/api-error.js';
import { IdempotencyRepository } from '../repositories/idempotency.repository.js';

/**
 * How long a key is remembered: 24 hours, the common practice set by Stripe's `Idempotency-Key`
 * (keys may be pruned once 24 h old), which the IETF draft "The Idempotency-Key HTTP Header Field"
 * (draft-ietf-httpapi-idempotency-key-header) cites; the draft leaves the expiry to each server and
 * asks it to publish it (docs/api.md). An older key counts as unused.
 */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * A first request that has made nothing after this long is taken to have died (its process ended
 * mid-request), and the key may be used again. Creating a story or a batch takes well under a
 * second, so this only matters after a crash.
 */
export const IDEMPOTENCY_ABANDONED_AFTER_MS = 5 * 60 * 1000;

/** Longest `Idempotency-Key` accepted, in characters. */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/** 1–255 printable ASCII characters (space to tilde). */
const KEY_PATTERN = new RegExp(`^[\\x20-\\x7E]{1,${IDEMPOTENCY_KEY_MAX_LENGTH}}$`);

/** The operations that take an `Idempotency-Key`; a key is remembered per user and per operation. */
export type IdempotencyScope = 'batch-create' | 'story-create';

/** What {@link IdempotencyService.run} answers: the operation's value, and whether it was a replay. */
export interface IdempotentResult<T> {
  value: T;
  /** True when an earlier request with the same key and body made the value (send `Idempotent-Replayed: true`). */
  replayed: boolean;
}

/** Canonical JSON (sorted keys, `undefined` fields left out) of a value. */
const canonical = stringify.configure({ deterministic: true, bigint: true, circularValue: TypeError });

/** SHA-256 (hex) of the canonical JSON of a request body. */
export function requestHash(body: unknown): string {
  return createHash('sha256')
    .update(canonical(body ?? null) ?? 'null')
    .digest('hex');
}

/**
 * The `Idempotency-Key` header as given, checked.
 * @returns undefined when the header is absent.
 * @throws ApiError 400 `invalid-idempotency-key` unless it is 1–255 printable ASCII characters.
 */
export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!KEY_PATTERN.test(header)) {
    throw new ApiError(
      400,
      'invalid-idempotency-key',
      `The Idempotency-Key header must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters, such as a UUID`,
    );
  }
  return header;
}

/**
 * `Idempotency-Key` for creating requests: a client that resends a request with the same key gets
 * what the first one made instead of a second copy.
 *
 * Per user and {@link IdempotencyScope}, a key is bound to the SHA-256 of its request's validated
 * body in canonical JSON (so the order of fields and absent optional fields do not matter) and,
 * once the first request has succeeded, to the id of what it made. Keys are kept
 * {@link IDEMPOTENCY_KEY_TTL_MS} (24 h); after that the same key is a new request.
 */
@Injectable()
export class IdempotencyService {
  constructor(private readonly keys: IdempotencyRepository) {}

  /**
   * Runs `create` at most once per user, scope and key.
   *
   * - No key: runs `create`.
   * - First use of the key (or expired): runs `create` and remembers the id it returns. When
   *   `create` throws, the key is forgotten again, so the client may retry with it.
   * - Same key and same body, first request done: answers `load(id)` with `replayed: true`.
   *
   * A key whose first request ended more than {@link IDEMPOTENCY_ABANDONED_AFTER_MS} ago without
   * making anything counts as unused.
   *
   * @param request.key the `Idempotency-Key` header as received (undefined when absent).
   * @param request.body the validated request body; hashed to tell a repeat from another request.
   * @param create makes the resource and returns the answer; `idOf` reads the resource's id from it.
   * @param load the answer for a resource made earlier, as it is now; undefined when it no longer
   * exists. A key is never used to make a second resource within its 24 h, even when the first was
   * deleted: that answers 409 `idempotency-resource-deleted`, and a new key makes a new one.
   * @throws ApiError 400 `invalid-idempotency-key` (see {@link parseIdempotencyKey});
   * 409 `idempotency-key-reused` when the key was used with another body;
   * 409 `idempotency-request-in-progress` when the first request with the key has not finished;
   * 409 `idempotency-resource-deleted` (see `load`); and whatever `create` or `load` throw.
   */
  async run<T>(
    request: { userId: string; scope: IdempotencyScope; key: string | undefined; body: unknown },
    create: () => Promise<T>,
    idOf: (value: T) => string,
    load: (id: string) => Promise<T | undefined>,
  ): Promise<IdempotentResult<T>> {
    const { userId, scope, key, body } = request;
    const checked = parseIdempotencyKey(key);
    if (checked === undefined) return { value: await create(), replayed: false };
    const hash = requestHash(body);
    const expiry = { ttlMs: IDEMPOTENCY_KEY_TTL_MS, abandonedAfterMs: IDEMPOTENCY_ABANDONED_AFTER_MS };
    // A held key may be released (its request failed) between the claim and the read: claim again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const claim = await this.keys.claim({ userId, scope, key: checked, requestHash: hash }, expiry);
      if (claim) {
        await this.keys.deleteExpired(userId, IDEMPOTENCY_KEY_TTL_MS);
        return { value: await this.createOnce(claim.id, create, idOf), replayed: false };
      }
      const held = await this.keys.find(userId, scope, checked);
      if (!held) continue;
      if (held.requestHash !== hash) {
        throw new ApiError(
          409,
          'idempotency-key-reused',
          'This Idempotency-Key was already used with a different request body; use a new key for a new request',
        );
      }
      if (held.resourceId === null) throw inProgress();
      const value = await load(held.resourceId);
      if (value === undefined) {
        throw new ApiError(
          409,
          'idempotency-resource-deleted',
          `The request with this Idempotency-Key already made ${held.resourceId}, which has since been deleted; use a new key to make another`,
        );
      }
      return { value, replayed: true };
    }
    throw inProgress();
  }

  /** Runs `create` under the claim `claimId`: records its id, or releases the key when it throws. */
  private async createOnce<T>(claimId: string, create: () => Promise<T>, idOf: (value: T) => string): Promise<T> {
    let made: T;
    try {
      made = await create();
    } catch (error) {
      await this.keys.release(claimId).catch(() => undefined);
      throw error;
    }
    // False only when the claim was taken over as abandoned; the resource is made all the same.
    await this.keys.complete(claimId, idOf(made));
    return made;
  }
}

function inProgress(): ApiError {
  return new ApiError(
    409,
    'idempotency-request-in-progress',
    'A request with this Idempotency-Key is still being processed; retry shortly to get its result',
  );
}
