import { setTimeout as sleep } from 'node:timers/promises';
import type { ProviderLimit } from '../config/config.js';
import type { ProviderLimitStore } from './ports.js';
import { keyRestMs, ProviderError } from './provider-error.js';

/**
 * Longest wait for a free key or a free minute slot spent inside the job, ms: 5 s. A longer one
 * puts the job back in the queue for that long (without using an attempt, see PipelineWorker).
 */
export const IN_JOB_WAIT_MS = 5_000;

/** Pause between two looks for a free concurrent slot, ms (a little jitter is added). */
const BUSY_POLL_MS = 100;

/**
 * Runs calls of one provider (one `capability.provider` scope) within its limits, across every
 * worker process: at most `maxConcurrent` in flight, at most `rpm` started per rolling minute per
 * API key, API keys taken in turn. A key that answers 429, a used-up quota or a refused key
 * (ProviderError.keyFault) rests (429: for its Retry-After) and the same call goes on at once with
 * the next key. When every key rests, the call fails with a transient ProviderError whose
 * `retryAfterMs` is the shortest rest left, so the job waits in the queue without using an
 * attempt; a refused key (401/403) with no other key to use fails with its own (permanent) error.
 */
export class ProviderGuard {
  constructor(
    private readonly limits: ProviderLimitStore,
    readonly scope: string,
    private readonly keyCount: number,
    private readonly limit: ProviderLimit & { timeoutMs: number },
  ) {}

  /**
   * @param call one call with API key number `keyIndex` (0 for keyless providers).
   * @throws what `call` throws (after resting its key when no other key can take over), a
   * transient ProviderError with retryAfterMs when every key rests, or the signal's reason.
   */
  async run<R>(signal: AbortSignal | undefined, call: (keyIndex: number) => Promise<R>): Promise<R> {
    let lastKeyError: ProviderError | undefined;
    for (;;) {
      signal?.throwIfAborted();
      const slot = await this.limits.acquire(this.scope, this.keyCount, this.limit, this.limit.timeoutMs + 30_000);
      if (!slot.ok) {
        if (slot.reason === 'busy') {
          await sleep(BUSY_POLL_MS + Math.random() * BUSY_POLL_MS, undefined, { signal });
          continue;
        }
        if (lastKeyError?.keyFault === 'auth') throw lastKeyError;
        if (slot.waitMs <= IN_JOB_WAIT_MS && !lastKeyError) {
          await sleep(Math.max(slot.waitMs, 10), undefined, { signal });
          continue;
        }
        throw new ProviderError(
          `${this.scope}: ${this.keyCount > 1 ? `all ${this.keyCount} API keys are` : 'the API key is'} resting or at the requests-per-minute limit` +
            (lastKeyError ? ` (last answer: ${lastKeyError.message})` : '') +
            `; trying again in ${slot.waitMs} ms`,
          'transient',
          lastKeyError?.provider ?? this.scope.split('.')[1] ?? this.scope,
          { retryAfterMs: slot.waitMs, cause: lastKeyError },
        );
      }
      try {
        return await call(slot.keyIndex);
      } catch (error) {
        if (!(error instanceof ProviderError) || !error.keyFault || signal?.aborted) throw error;
        await this.limits.rest(this.scope, slot.keyIndex, keyRestMs(error));
        lastKeyError = error;
      } finally {
        await this.limits.release(this.scope, slot.leaseId).catch(() => undefined);
      }
    }
  }
}
