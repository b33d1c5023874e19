/**
 * A failed provider call, sorted by what to do about it:
 * `transient` (timeouts, connection resets, 5xx, 429) is worth retrying;
 * `permanent` (invalid input, refusal, other 4xx, an answer that does not fit the schema) is not.
 */
export class ProviderError extends Error {
  /**
   * How long the provider asked us to wait before the next call, ms: from `Retry-After`
   * (delta-seconds or HTTP-date, RFC 9110 §10.2.3) or the non-standard `retry-after-ms` header
   * (OpenAI sends it), as read by {@link parseRetryAfterMs} (so at most {@link MAX_RETRY_AFTER_MS}).
   * Absent when the server said nothing (or nothing readable).
   */
  declare readonly retryAfterMs?: number;
  /**
   * Set when the API key used is at fault and should rest while other keys carry on:
   * `rate-limit` (HTTP 429), `quota` (the key's quota or credit is used up), `auth` (401/403,
   * a revoked or wrong key). See {@link keyRestMs} for how long.
   */
  declare readonly keyFault?: KeyFault;
  /** HTTP status of the failed call, when there was one. */
  declare readonly status?: number;

  constructor(
    message: string,
    readonly kind: 'transient' | 'permanent',
    readonly provider: string,
    options?: { cause?: unknown; retryAfterMs?: number; keyFault?: KeyFault; status?: number },
  ) {
    super(message, options);
    this.name = 'ProviderError';
    if (options?.keyFault) this.keyFault = options.keyFault;
    if (options?.status !== undefined) this.status = options.status;
    const retryAfterMs = options?.retryAfterMs;
    if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) {
      this.retryAfterMs = Math.min(Math.ceil(retryAfterMs), MAX_RETRY_AFTER_MS);
    }
  }
}

export type KeyFault = 'rate-limit' | 'quota' | 'auth';

/**
 * How long a key at fault rests before it is used again, ms: a 429 for its Retry-After (else
 * 60 s), a used-up quota for its Retry-After (else 1 hour), a refused key (401/403) 1 hour
 * (fixing it needs a person).
 */
export function keyRestMs(error: ProviderError): number {
  if (error.keyFault === 'rate-limit') return error.retryAfterMs ?? 60_000;
  if (error.keyFault === 'quota') return error.retryAfterMs ?? MAX_RETRY_AFTER_MS;
  return MAX_RETRY_AFTER_MS;
}

/**
 * Deadline for one call of an offline provider (espeak-ng, card) when none is configured, ms:
 * 120 s, the default of `PROVIDER_TIMEOUT_MS`. Far more than either needs for one chunk.
 */
export const DEFAULT_LOCAL_PROVIDER_TIMEOUT_MS = 120_000;

/**
 * Longest wait a server's retry header can ask for, ms: 1 hour. A longer answer is read as
 * 1 hour, so a misconfigured server cannot park a job for days.
 */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

const DELAY_NUMBER = /^\d+(?:\.\d+)?$/;
/** Every HTTP-date form (IMF-fixdate, RFC 850, asctime) starts with a day name. */
const HTTP_DATE_START = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /;
/** asctime-date (`Sun Nov  6 08:49:37 1994`) carries no zone; RFC 9110 says it is UTC. */
const ASCTIME_DATE = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/**
 * How long a server asked us to wait before trying again, ms, read from its response headers
 * (names in any case):
 *
 * - `retry-after-ms`: milliseconds, non-standard, sent by OpenAI; wins when readable, being the
 *   more precise of the two;
 * - `Retry-After` (RFC 9110 §10.2.3): delta-seconds (`120`; a decimal such as `1.5` is accepted
 *   too) or an HTTP-date (`Wed, 21 Oct 2015 07:28:00 GMT`, also the obsolete RFC 850 and asctime
 *   forms), counted from `nowMs`; a date already past means 0.
 *
 * The result is rounded up to whole ms and capped at {@link MAX_RETRY_AFTER_MS}. Undefined when
 * neither header is present or neither is readable (negative numbers, `Infinity`, other text).
 *
 * @param nowMs the current time for an HTTP-date, ms since the epoch (default `Date.now()`).
 */
export function parseRetryAfterMs(
  headers: Readonly<Record<string, string | undefined>> | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const header = (name: string): string | undefined => {
    for (const [key, value] of Object.entries(headers)) {
      if (key.toLowerCase() === name && typeof value === 'string') return value.trim();
    }
    return undefined;
  };
  const clamp = (ms: number) => Math.min(Math.ceil(ms), MAX_RETRY_AFTER_MS);

  const millis = header('retry-after-ms');
  if (millis !== undefined && DELAY_NUMBER.test(millis)) return clamp(Number(millis));

  const value = header('retry-after');
  if (value === undefined || value === '') return undefined;
  if (DELAY_NUMBER.test(value)) return clamp(Number(value) * 1000);
  if (!HTTP_DATE_START.test(value)) return undefined;
  const at = Date.parse(ASCTIME_DATE.test(value) ? `${value} GMT` : value);
  if (Number.isNaN(at)) return undefined;
  return clamp(Math.max(0, at - nowMs));
}
