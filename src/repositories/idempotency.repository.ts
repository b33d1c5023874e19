import { Inject, Injectable } from '@nestjs/common';
import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { DATABASE, type DatabaseConnection } from '../db/database.js';
import { type IdempotencyKey, idempotencyKeys } from '../db/schema.js';

/** What identifies a use of an `Idempotency-Key`, and the hash of the request it came with. */
export type IdempotencyEntry = Pick<IdempotencyKey, 'userId' | 'scope' | 'key' | 'requestHash'>;

/** When an existing row may be taken over by a new request (both ages are measured on the database's clock). */
export interface IdempotencyExpiry {
  /** A row older than this is expired, finished or not. */
  ttlMs: number;
  /** A row still without a resource after this long belongs to a request that died. */
  abandonedAfterMs: number;
}

/** `now()` minus so many milliseconds, on the database's clock. */
const ago = (ms: number) => sql`now() - ${`${Math.max(0, Math.trunc(ms))} milliseconds`}::interval`;

/** `Idempotency-Key` records in PostgreSQL. Queries only; the rules live in IdempotencyService. */
@Injectable()
export class IdempotencyRepository {
  constructor(@Inject(DATABASE) private readonly database: DatabaseConnection) {}

  /**
   * Claims the key for a request, in one statement: inserts the row (without a resource), or, when
   * one exists but is expired or abandoned (see {@link IdempotencyExpiry}), replaces it under a new
   * row id. Concurrent claims of one key are serialised by the unique index.
   * @returns the claimed row (its `id` identifies this claim), or undefined when the key is held.
   */
  async claim(entry: IdempotencyEntry, expiry: IdempotencyExpiry): Promise<IdempotencyKey | undefined> {
    const [row] = await this.database.db
      .insert(idempotencyKeys)
      .values(entry)
      .onConflictDoUpdate({
        target: [idempotencyKeys.userId, idempotencyKeys.scope, idempotencyKeys.key],
        set: {
          id: sql`gen_random_uuid()`,
          requestHash: sql`excluded.request_hash`,
          resourceId: null,
          createdAt: sql`now()`,
          updatedAt: sql`now()`,
        },
        setWhere: or(
          lt(idempotencyKeys.createdAt, ago(expiry.ttlMs)),
          and(isNull(idempotencyKeys.resourceId), lt(idempotencyKeys.createdAt, ago(expiry.abandonedAfterMs))),
        ),
      })
      .returning();
    return row;
  }

  /** The record of a user's key for an operation, if any. */
  async find(userId: string, scope: string, key: string): Promise<IdempotencyKey | undefined> {
    const [row] = await this.database.db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
    return row;
  }

  /**
   * Records what the claim `id` made.
   * @returns false when the claim is no longer there (taken over as abandoned, or deleted).
   */
  async complete(id: string, resourceId: string): Promise<boolean> {
    const rows = await this.database.db
      .update(idempotencyKeys)
      .set({ resourceId })
      .where(and(eq(idempotencyKeys.id, id), isNull(idempotencyKeys.resourceId)))
      .returning({ id: idempotencyKeys.id });
    return rows.length > 0;
  }

  /** Deletes the claim `id` while it has no resource, so that the key may be used again. */
  async release(id: string): Promise<void> {
    await this.database.db.delete(idempotencyKeys).where(and(eq(idempotencyKeys.id, id), isNull(idempotencyKeys.resourceId)));
  }

  /** Deletes the user's rows older than `ttlMs`. */
  async deleteExpired(userId: string, ttlMs: number): Promise<void> {
    await this.database.db.delete(idempotencyKeys).where(and(eq(idempotencyKeys.userId, userId), lt(idempotencyKeys.createdAt, ago(ttlMs))));
  }
}
