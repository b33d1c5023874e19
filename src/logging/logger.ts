import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { Options as HttpLoggerOptions } from 'pino-http';
import pinoPretty from 'pino-pretty';
import type { AppConfig } from '../config/config.js';
import { workLogFields } from './work-context.js';

/** What replaces a secret in a log line. */
export const REDACTED = '[redacted]';

/**
 * Structured fields that never reach a log line, whatever logs them (pino's `redact`): request
 * credentials (Authorization, cookies, X-API-Key), and passwords, tokens and keys by field name.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'password',
  'apiKey',
  'apiKeys',
  'token',
  'accessToken',
  'refreshToken',
  'authorization',
  '*.password',
  '*.apiKey',
  '*.apiKeys',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.authorization',
];

/** Credentials recognised in free text (messages, error texts, stacks), each with its replacement. */
const SECRET_PATTERNS: [RegExp, string][] = [
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, `Bearer ${REDACTED}`],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, REDACTED], // a JWT
  [/\bsfk_[0-9a-f]{16,}/g, REDACTED], // a Storyforge API key
  [/\bsk-[A-Za-z0-9_-]{12,}/g, REDACTED], // OpenAI, Anthropic and similar keys
  [/\bAIza[0-9A-Za-z_-]{20,}/g, REDACTED], // a Google API key
  [/\b([a-z][a-z0-9+.-]*:\/\/[^/\s:@]+):[^@\s/]+@/gi, `$1:${REDACTED}@`], // user:password@ in a URL
  [/((?:password|passwd|secret|api[_-]?key|access[_-]?token|refresh[_-]?token|token)"?\s*[:=]\s*"?)[^"\s,&}]+/gi, `$1${REDACTED}`],
];

/** Removes credentials from a text: the configured secrets verbatim, then {@link SECRET_PATTERNS}. */
export function scrubText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** {@link scrubText} on every string in a value (plain objects, arrays and errors, to depth 5). */
function scrubValue(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value, secrets);
  if (value === null || typeof value !== 'object' || depth > 5) return value;
  if (value instanceof Error) {
    // Still an Error (pino's serializer keeps its type and stack), with every text scrubbed.
    const copy = new Error(scrubText(value.message, secrets));
    copy.name = value.name;
    copy.stack = value.stack === undefined ? undefined : scrubText(value.stack, secrets);
    for (const [key, field] of Object.entries(value)) (copy as unknown as Record<string, unknown>)[key] = scrubValue(field, secrets, depth + 1);
    if (value.cause !== undefined) copy.cause = scrubValue(value.cause, secrets, depth + 1);
    return copy;
  }
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, secrets, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, scrubValue(field, secrets, depth + 1)]));
}

/**
 * Every secret of the configuration, to be blanked out of log lines wherever it appears: provider
 * API keys, the JWT secret, the metrics token, Automatic1111 and ComfyUI credentials, and the
 * passwords in DATABASE_URL and REDIS_URL. Values shorter than 6 characters are left out (too
 * likely to match ordinary text).
 */
export function secretsOf(config: AppConfig): string[] {
  const p = config.providers;
  const urlPassword = (url: string | undefined) => {
    try {
      return url ? decodeURIComponent(new URL(url).password) : undefined;
    } catch {
      return undefined;
    }
  };
  const all = [
    ...p.openai.apiKeys,
    ...p.gemini.apiKeys,
    ...p.anthropic.apiKeys,
    ...p.elevenlabs.apiKeys,
    p.automatic1111.auth,
    p.automatic1111.auth?.split(':').slice(1).join(':'),
    p.comfyui.apiKey,
    config.auth.jwtSecret,
    config.metrics.token,
    urlPassword(config.databaseUrl),
    urlPassword(config.redisUrl),
  ];
  return [...new Set(all.filter((s): s is string => typeof s === 'string' && s.length >= 6))].sort((a, b) => b.length - a.length);
}

export interface RootLoggerOptions {
  level: AppConfig['logLevel'];
  /** `json`: one JSON object a line; `pretty`: coloured lines for a person; `auto`: pretty on a terminal. */
  format?: AppConfig['logFormat'];
  /** Write to this file (JSON) instead of stdout (`storyforge run`, whose terminal shows progress). */
  file?: string;
  /** Write here instead (tests). */
  destination?: DestinationStream;
  /** Values blanked out wherever they appear (see {@link secretsOf}). */
  secrets?: readonly string[];
}

/**
 * The one pino logger of a process. Every line carries the fields of the work it belongs to
 * (batchId, storyId, step, chunk, jobId, attempt: see runInWorkContext); credentials are removed
 * by field ({@link REDACT_PATHS}) and from free text ({@link scrubText}). Levels are pino's
 * numbers (30 info, 40 warn, 50 error); `time` is ms since the epoch.
 */
export function createRootLogger(options: RootLoggerOptions): Logger {
  const secrets = options.secrets ?? [];
  const destination =
    options.destination ??
    (options.file
      ? pino.destination({ dest: options.file, mkdir: true, sync: false })
      : wantsPretty(options.format)
        ? pinoPretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
        : pino.destination({ dest: 1, sync: true })); // lines appear as they happen (containers, supervisors)
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      mixin: workLogFields,
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((arg) => scrubValue(arg, secrets)) as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

function wantsPretty(format: RootLoggerOptions['format']): boolean {
  if (format === 'pretty') return true;
  if (format === 'json') return false;
  return Boolean(process.stdout.isTTY);
}

/** Request ids taken from a client's X-Request-Id: up to 128 letters, digits and `._:-`. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id of a request: a sane incoming `X-Request-Id`, else a new UUID. */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}

/** Query parameters whose values never reach a log line. */
const SECRET_QUERY = /([?&](?:token|access_token|api[_-]?key|key|password|sig|signature)=)[^&#]*/gi;

/** Routes probed all the time (load balancers, Prometheus): logged at debug, not info. */
const PROBES = new Set(['/health', '/ready', '/metrics']);

/**
 * pino-http's options for the HTTP API: a request id on every line of a request (`requestId`,
 * from a sane `X-Request-Id` or new, and sent back in `X-Request-Id`), one line per request with
 * method, URL (secret query values blanked), status and `responseTime` (ms); no headers or
 * bodies. 5xx answers log at error, probes of /health, /ready and /metrics at debug.
 */
export function httpLoggerOptions(logger: Logger): HttpLoggerOptions<IncomingMessage, ServerResponse> {
  return {
    logger,
    genReqId: (req, res) => {
      const id = requestIdOf(req.headers['x-request-id']);
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customAttributeKeys: { reqId: 'requestId' },
    quietReqLogger: true,
    serializers: {
      req: (req: { method?: string; url?: string; raw?: IncomingMessage }) => ({
        method: req.method,
        url: (req.raw?.url ?? req.url ?? '').replace(SECRET_QUERY, `$1${REDACTED}`),
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
    // A 5xx answer is an error line, without the stack trace pino-http makes up for it.
    customErrorObject: (_req, _res, error, value: Record<string, unknown>) =>
      /^failed with status code \d+$/.test(error.message) ? { ...value, err: undefined } : value,
    customLogLevel: (req, res, error) => {
      if (error || res.statusCode >= 500) return 'error';
      return PROBES.has((req.url ?? '').split('?')[0]!) ? 'debug' : 'info';
    },
  };
}
