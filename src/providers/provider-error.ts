/**
 * A failed provider call, sorted by what to do about it:
 * `transient` (timeouts, connection resets, 5xx, 429) is worth retrying;
 * `permanent` (invalid input, refusal, other 4xx, an answer that does not fit the schema) is not.
 */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly kind: 'transient' | 'permanent',
    readonly provider: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProviderError';
  }
}
