import { APICallError, JSONParseError, NoImageGeneratedError, NoSpeechGeneratedError, RetryError } from 'ai';
import { type KeyFault, parseRetryAfterMs, ProviderError } from './provider-error.js';

/**
 * Error handling shared by every networked provider (story writers, image generators, speech
 * synthesizers): one deadline per call, and one mapping from what the AI SDK (or
 * {@link fetchChecked} for vendors called over plain REST) throws to a {@link ProviderError} that
 * says whether a retry can help and whether the API key in use should rest.
 */

/** Who is calling, used in error messages. Never holds the API key. */
export interface ProviderCallContext {
  /** Provider name stored in {@link ProviderError.provider}, e.g. `openai-compatible`. */
  provider: string;
  /** What the call does, e.g. `story writer`; starts every message. */
  capability: string;
  model: string;
  baseUrl: string;
  /** Per-call deadline, ms. */
  timeoutMs: number;
}

/**
 * Runs one provider call under a deadline and maps its failure to a {@link ProviderError}.
 *
 * The signal handed to `call` aborts when the caller's signal aborts or when `timeoutMs` passes
 * (`AbortSignal.any` + `AbortSignal.timeout`). A deadline that passes becomes a transient
 * ProviderError; a caller's abort is rethrown unchanged (it is a cancel, not a provider failure).
 */
export async function callProvider<T>(
  context: ProviderCallContext,
  callerSignal: AbortSignal | undefined,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  callerSignal?.throwIfAborted();
  const deadline = AbortSignal.timeout(context.timeoutMs);
  const signal = callerSignal ? AbortSignal.any([callerSignal, deadline]) : deadline;
  try {
    return await call(signal);
  } catch (error) {
    if (callerSignal?.aborted) throw error;
    if (deadline.aborted && !(error instanceof ProviderError)) {
      throw new ProviderError(
        `${describeCall(context)}: no answer within ${context.timeoutMs} ms (timed out)`,
        'transient',
        context.provider,
        { cause: error },
      );
    }
    throw toProviderError(error, context);
  }
}

/**
 * Sorts an error thrown by the AI SDK (or by fetch underneath it) into a {@link ProviderError}:
 *
 * - HTTP 429, 408, 409 and 5xx, connection errors, and a 2xx body that is not JSON at all → transient;
 *   a 429 or 503 carries the server's `Retry-After` / `retry-after-ms` as
 *   {@link ProviderError.retryAfterMs} (see {@link parseRetryAfterMs});
 * - other HTTP 4xx (401 bad key, 404 unknown model, 400 bad request) → permanent, with the status
 *   and the server's own message;
 * - a 2xx body that is JSON but not the wire format (e.g. an image `url` instead of `b64_json`) → permanent;
 * - an empty answer (no image, no audio) → transient;
 * - anything else → permanent.
 *
 * A {@link ProviderError} passes through unchanged.
 */
export function toProviderError(error: unknown, context: ProviderCallContext): ProviderError {
  if (error instanceof ProviderError) return error;
  if (RetryError.isInstance(error) && error.lastError !== undefined) return toProviderError(error.lastError, context);

  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    if (status !== undefined && status >= 200 && status < 300) {
      // The server said OK but its body did not parse: unreadable JSON is a glitch (truncated
      // body, a proxy's HTML page), JSON of the wrong shape is a server that speaks another dialect.
      const unreadable = JSONParseError.isInstance(error.cause);
      return new ProviderError(
        `${describeCall(context)}: the server's answer is ${unreadable ? 'not valid JSON' : `not in the ${context.provider} wire format`}` +
          `: ${describeCause(error)}`,
        unreadable ? 'transient' : 'permanent',
        context.provider,
        { cause: error },
      );
    }
    const retryable = error.isRetryable || (status !== undefined && (status === 429 || status >= 500));
    const what = status !== undefined ? `HTTP ${status}: ${serverMessage(error)}` : `cannot reach ${safeUrl(context.baseUrl)}: ${error.message}`;
    const retryAfter = error.responseHeaders?.['retry-after'];
    const retryAfterMs = status === 429 || status === 503 ? parseRetryAfterMs(error.responseHeaders) : undefined;
    const keyFault = keyFaultOf(status, serverMessage(error));
    return new ProviderError(
      `${describeCall(context)}: ${what}${retryAfter ? ` (Retry-After: ${retryAfter})` : ''}`,
      // A used-up quota comes back; a refused key (auth) does not, though another key may work.
      retryable || keyFault === 'quota' ? 'transient' : 'permanent',
      context.provider,
      { cause: error, retryAfterMs, keyFault, status },
    );
  }

  if (NoImageGeneratedError.isInstance(error) || NoSpeechGeneratedError.isInstance(error)) {
    return new ProviderError(`${describeCall(context)}: the server answered with no data: ${error.message}`, 'transient', context.provider, {
      cause: error,
    });
  }

  if (isNetworkError(error)) {
    return new ProviderError(
      `${describeCall(context)}: cannot reach ${safeUrl(context.baseUrl)}: ${errorText(error)}`,
      'transient',
      context.provider,
      { cause: error },
    );
  }

  return new ProviderError(`${describeCall(context)}: ${errorText(error)}`, 'permanent', context.provider, { cause: error });
}

const QUOTA = /insufficient_quota|quota_exceeded|exceeded your current quota|exceeds your quota|credit balance|billing/i;

/**
 * Whether the API key is at fault: 401/403 → `auth`; a 429 (or ElevenLabs' 401) naming a used-up
 * quota or credit → `quota`; another 429 → `rate-limit`; otherwise undefined.
 */
export function keyFaultOf(status: number | undefined, message: string): KeyFault | undefined {
  if (status === 429) return QUOTA.test(message) ? 'quota' : 'rate-limit';
  if (status === 401 || status === 403) return QUOTA.test(message) ? 'quota' : 'auth';
  return undefined;
}

/**
 * One HTTP call to a vendor's REST API with the AI SDK's error type: a non-2xx answer throws an
 * {@link APICallError} (status, headers, body, `isRetryable` for 408/409/429/5xx) so that
 * {@link toProviderError} sorts it like the SDK-based providers' errors. The request body is not
 * kept in the error (it may be large); header values never appear in messages.
 * @throws APICallError for a non-2xx answer; fetch's own errors (connection refused …) unchanged.
 */
export async function fetchChecked(url: string, init: RequestInit & { signal: AbortSignal }): Promise<Response> {
  const response = await fetch(url, init);
  if (response.ok) return response;
  const body = await response.text().catch(() => '');
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    data = undefined;
  }
  const status = response.status;
  throw new APICallError({
    message: response.statusText || `HTTP ${status}`,
    url: safeUrl(url),
    requestBodyValues: undefined,
    statusCode: status,
    responseHeaders: Object.fromEntries(response.headers.entries()),
    responseBody: body,
    isRetryable: status === 408 || status === 409 || status === 429 || status >= 500,
    data,
  });
}

/**
 * The server's own explanation of a failed call: `error.message` of an OpenAI error body,
 * `error` when it is a string (LM Studio), `message` or `detail` (vLLM, FastAPI servers),
 * else the raw body (shortened), else the status text.
 */
export function serverMessage(error: APICallError): string {
  const fromData = messageIn(error.data);
  if (fromData) return fromData;
  const body = error.responseBody?.trim();
  if (body) {
    try {
      const fromBody = messageIn(JSON.parse(body));
      if (fromBody) return fromBody;
    } catch {
      // not JSON: fall through to the raw text
    }
    return shorten(body.replace(/\s+/g, ' '), 300);
  }
  return error.message || 'no message';
}

function messageIn(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  for (const key of ['error', 'message', 'detail'] as const) {
    const nested = messageIn(record[key]);
    if (nested) return nested;
  }
  return undefined;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function isNetworkError(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (current instanceof TypeError && /^(fetch failed|terminated)$/i.test(current.message)) return true;
    current = current.cause;
  }
  return false;
}

function describeCause(error: APICallError): string {
  const cause = error.cause instanceof Error ? error.cause.message : error.message;
  return shorten(cause.replace(/\s+/g, ' '), 300);
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

/** `story writer (model gpt-4o-mini at https://api.openai.com/v1)`: how every error message starts. */
export function describeCall(context: ProviderCallContext): string {
  return `${context.capability} (model ${context.model} at ${safeUrl(context.baseUrl)})`;
}

/** The URL without user info or query string, which may hold credentials. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Options for `createOpenAI` shared by the three providers. The SDK reads `OPENAI_API_KEY` from the
 * environment when no key is given and fails when there is none; local servers (Ollama, LM Studio,
 * llama.cpp) need no key, so a placeholder is sent instead, and an OpenAI key from the environment
 * never leaks to a server it was not configured for.
 */
export function openAiProviderSettings(options: { baseUrl: string; apiKey?: string }): {
  baseURL: string;
  apiKey: string;
  name: string;
} {
  return {
    baseURL: options.baseUrl.replace(/\/+$/, ''),
    apiKey: options.apiKey && options.apiKey.trim() !== '' ? options.apiKey : NO_API_KEY,
    name: 'openai-compatible',
  };
}

/** Sent as the bearer token when no API key is configured (keyless local servers ignore it). */
export const NO_API_KEY = 'no-api-key';
