import { Logger } from '@nestjs/common';
import { addToWorkContext } from '../logging/work-context.js';
import { ProviderError } from './provider-error.js';
import { providerCallDuration, providerCallErrors, providerFallbacks } from '../observability/metrics.js';

const logger = new Logger('Providers');

/** Which call: `capability` is `writer`, `images` or `speech`; `model` when the choice names one. */
export interface ProviderCallInfo {
  capability: string;
  provider: string;
  model?: string;
}

/**
 * The status label of a failed call: the HTTP status when there was one, else `timeout`,
 * `network` (no connection) or `error`.
 */
export function failureStatus(error: unknown): string {
  if (error instanceof ProviderError) {
    if (error.status !== undefined) return String(error.status);
    if (/timed out/.test(error.message)) return 'timeout';
    if (/cannot reach/.test(error.message)) return 'network';
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'timeout';
  return 'error';
}

/** Bytes a provider answered with: image or audio data, or the story text (UTF-8). */
function bytesOf(result: unknown): number | undefined {
  const value = result as { data?: Uint8Array; content?: string } | undefined;
  if (value?.data instanceof Uint8Array) return value.data.byteLength;
  if (typeof value?.content === 'string') return Buffer.byteLength(value.content);
  return undefined;
}

/**
 * Runs one provider call, and logs and counts it: one line with provider, model, `durationMs`,
 * `status` (`ok` or see {@link failureStatus}) and `bytes`, plus
 * `storyforge_provider_call_duration_seconds` and, on failure,
 * `storyforge_provider_call_errors_total`. The step's work context learns the provider (the step
 * duration metric is labelled with it). A cancel is neither logged nor counted as an error.
 * @returns what `call` returns; @throws what it throws.
 */
export async function observeProviderCall<T>(info: ProviderCallInfo, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
  addToWorkContext({ provider: info.provider });
  const started = performance.now();
  const fields = { provider: info.provider, capability: info.capability };
  try {
    const result = await call();
    const durationMs = Math.round(performance.now() - started);
    providerCallDuration.observe({ ...fields, status: 'ok' }, durationMs / 1000);
    const model = (result as { model?: string } | undefined)?.model ?? info.model;
    logger.log({ msg: 'provider call', ...fields, model, durationMs, status: 'ok', bytes: bytesOf(result) });
    return result;
  } catch (error) {
    if (signal?.aborted) throw error;
    const durationMs = Math.round(performance.now() - started);
    const status = failureStatus(error);
    providerCallDuration.observe({ ...fields, status }, durationMs / 1000);
    providerCallErrors.inc({ ...fields, status });
    logger.warn({ msg: 'provider call failed', ...fields, model: info.model, durationMs, status, error: (error as Error).message });
    throw error;
  }
}

/**
 * Remembers a provider's Retry-After in the step's work context (the step job then goes back to
 * the queue for it, which the job metrics count), and rethrows the error.
 */
export function noteRetryAfter(error: unknown): never {
  if (error instanceof ProviderError && error.retryAfterMs !== undefined) addToWorkContext({ retryAfterMs: error.retryAfterMs });
  throw error;
}

/** Counts a call answered by a fallback: scopes are `capability.provider`. */
export function countFallback(chosenScope: string, answeredScope: string): void {
  const [capability = '', from = chosenScope] = chosenScope.split('.');
  const to = answeredScope.split('.')[1] ?? answeredScope;
  providerFallbacks.inc({ capability, from, to });
  logger.warn({ msg: `${capability}: ${from} failed, ${to} answered instead (fallback)`, capability, provider: to, fallbackFrom: from });
}
