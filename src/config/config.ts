import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { type Capability, IMAGE_GENERATORS, parseChoice, PROVIDER_NAMES, SPEECH_SYNTHESIZERS, STORY_WRITERS } from '../shared/provider-names.js';
import { X264_PRESETS, type X264Preset } from '../shared/video-encoding.js';
import { isKnownLanguage, LANGUAGE_RULE } from '../shared/language-codes.js';

/** Injection token for the parsed {@link AppConfig}. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * Bounds of `wordPerChunkImage` / `wordPerChunkAudio`, words. Below them a card or a clip holds a
 * fragment of a sentence (clips of one word, each followed by a pause); above them one image
 * stands for pages of text.
 */
export const CHUNK_WORD_LIMITS = {
  image: { min: 10, max: 2000 },
  audio: { min: 5, max: 2000 },
} as const;

/** An entry of Express's `trust proxy` list: a named range, an IP address, or a subnet (address/prefix). */
function isProxyAddress(item: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(item)) return true;
  const [address, prefix, ...rest] = item.split('/');
  const family = isIP(address ?? '');
  if (!family || rest.length) return false;
  if (prefix === undefined) return true;
  return /^\d+$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** A whole number from `min` to `max`; every way of missing it gets the one message saying so. */
const intFrom = (fallback: number, min: number, max: number) => {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error }).default(fallback);
};

/** A number (decimals allowed) from `min` to `max`. */
const numberFrom = (fallback: number, min: number, max: number) => {
  const error = `must be a number from ${min} to ${max}`;
  return z.coerce.number({ error }).min(min, { error }).max(max, { error }).default(fallback);
};

/** One of `values`; the message lists them. */
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `must be one of ${values.join(', ')}` });

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

/** `true`/`1`/`yes` or `false`/`0`/`no` (empty = false). */
const flag = z
  .string()
  .default('false')
  .transform((value) => value.trim().toLowerCase())
  .refine((value) => ['', 'true', '1', 'yes', 'false', '0', 'no'].includes(value), 'must be true or false')
  .transform((value) => ['true', '1', 'yes'].includes(value));

/** A comma-separated list of API keys (several keys of one vendor are used in turn). */
const keyList = z
  .string()
  .optional()
  .transform((value) => (value ?? '').split(',').map((key) => key.trim()).filter(Boolean));

/** `provider[:model][:voice]` of one capability, checked against the provider names. */
const choiceOf = (capability: Capability, names: readonly string[], fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((spec) => names.includes(parseChoice(capability, spec)?.provider ?? ''), {
      message: `must be one of ${names.join(', ')}, optionally followed by :model${capability === 'speech' ? ' and/or :voice' : ''}`,
    });

/** A comma-separated fallback chain of choices, tried in order after the first provider. */
const chainOf = (capability: Capability) =>
  z
    .string()
    .default('')
    .transform((value) => value.split(',').map((spec) => spec.trim()).filter(Boolean))
    .refine((specs) => specs.every((spec) => PROVIDER_NAMES[capability].includes(parseChoice(capability, spec)?.provider ?? '')), {
      message: `each entry must be one of ${PROVIDER_NAMES[capability].join(', ')} (comma-separated, optionally with :model/:voice)`,
    });

/** Limits of one provider; every field optional (absent = no limit of that kind, or the provider's own). */
export const providerLimitSchema = z
  .object({
    /** Calls in flight at once across every worker process. */
    maxConcurrent: z.number().int().min(1).max(1000).optional(),
    /** Calls started per rolling minute across every worker process. */
    rpm: z.number().int().min(1).max(100_000).optional(),
    /** Deadline of one call, ms (overrides PROVIDER_TIMEOUT_MS). */
    timeoutMs: z.number().int().min(1000).max(3_600_000).optional(),
    /** Largest text one speech call takes, characters; audio chunks are cut to fit. */
    maxInputChars: z.number().int().min(50).max(1_000_000).optional(),
  })
  .strict();

export type ProviderLimit = z.infer<typeof providerLimitSchema>;

const limitsSchema = z
  .string()
  .default('{}')
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON such as {"gemini":{"maxConcurrent":2,"rpm":10},"speech.edge":{"maxConcurrent":4}}' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string().regex(/^(?:(?:writer|images|speech)\.)?[a-z0-9-]+$/, 'keys are a provider name, or capability.provider (writer|images|speech)'), providerLimitSchema));

/** The ComfyUI workflow shipped with Storyforge (assets/comfyui/txt2img.json, beside src/ and dist/). */
export const DEFAULT_COMFYUI_WORKFLOW = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../assets/comfyui/txt2img.json');

/**
 * Every environment variable Storyforge reads, with its default. README.md's configuration table
 * lists the same names; keep them in step.
 */
export const envSchema = z.object({
  DATA_DIR: z.string().default('./data'),
  STORAGE_DRIVER: oneOf(['local', 's3']).default('local'),
  S3_BUCKET: optionalText,
  S3_ENDPOINT: optionalText.pipe(z.string().url('must be a URL such as http://127.0.0.1:9000').optional()),
  S3_REGION: z.string().default('us-east-1'),
  S3_FORCE_PATH_STYLE: flag,
  S3_PREFIX: z
    .string()
    .default('')
    .refine((value) => value === '' || /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(value), 'must be a folder-like path such as storyforge or prod/storyforge (no leading or trailing slash)'),
  S3_PRESIGNED_DOWNLOADS: flag,
  S3_PRESIGNED_TTL_S: intFrom(900, 60, 7 * 86_400), // SigV4 presigned URLs last at most 7 days
  DATABASE_URL: optionalText,
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'must be letters, digits and _ . : - only').default('storyforge'),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: oneOf(['auto', 'json', 'pretty']).default('auto'),
  METRICS_TOKEN: optionalText.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  METRICS_HOST: z.string().default('127.0.0.1'),
  METRICS_PORT: intFrom(9464, 0, 65535),
  PORT: intFrom(3000, 0, 65535),
  HOST: z.string().default('127.0.0.1'),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'each origin must look like https://app.example.com (scheme and host, no path)'))),
  TRUST_PROXY: z
    .string()
    .default('')
    .transform((value): boolean | number | string => {
      const v = value.trim();
      if (v === '' || v === 'false') return false;
      if (v === 'true') return true;
      return /^\d+$/.test(v) ? Number(v) : v;
    })
    .refine((value) => typeof value !== 'string' || value.split(',').every((item) => isProxyAddress(item.trim())), {
      message: 'must be true, false, a hop count, or addresses/subnets such as loopback,10.0.0.0/8 (comma-separated)',
    }),
  UPLOAD_MAX_FILES: intFrom(10, 1, 10), // a batch takes at most 10 files (the seed's limit, MAX_BATCH_FILES)
  UPLOAD_MAX_BYTES: intFrom(10 * 1024 * 1024, 1, 1024 * 1024 * 1024),
  JWT_SECRET: optionalText.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  JWT_ACCESS_TTL_S: intFrom(900, 30, 86_400),
  JWT_REFRESH_TTL_S: intFrom(30 * 86_400, 300, 365 * 86_400),
  RATE_LIMIT_WINDOW_MS: intFrom(60_000, 1_000, 86_400_000),
  RATE_LIMIT_AUTH: intFrom(10, 1, 100_000),
  RATE_LIMIT_UPLOAD: intFrom(30, 1, 100_000),

  STORY_WRITER: choiceOf('writer', STORY_WRITERS, 'source'),
  IMAGE_GENERATOR: choiceOf('images', IMAGE_GENERATORS, 'card'),
  SPEECH_SYNTHESIZER: choiceOf('speech', SPEECH_SYNTHESIZERS, 'espeak-ng'),
  WRITER_FALLBACK: chainOf('writer'),
  IMAGES_FALLBACK: chainOf('images'),
  SPEECH_FALLBACK: chainOf('speech'),
  FALLBACK_AFTER_MS: intFrom(300_000, 0, 86_400_000),
  PROVIDER_LIMITS: limitsSchema,

  GEMINI_API_KEY: keyList,
  GEMINI_BASE_URL: z.string().url().default('https://generativelanguage.googleapis.com/v1beta'),
  GEMINI_CHAT_MODEL: z.string().default('gemini-2.5-flash'),
  GEMINI_IMAGE_MODEL: z.string().default('imagen-4.0-generate-001'),
  GEMINI_SPEECH_MODEL: z.string().default('gemini-2.5-flash-preview-tts'),
  GEMINI_SPEECH_VOICE: z.string().default('Kore'),
  ANTHROPIC_API_KEY: keyList,
  ANTHROPIC_BASE_URL: z.string().url().default('https://api.anthropic.com/v1'),
  ANTHROPIC_MODEL: z.string().default('claude-sonnet-4-5'),
  ELEVENLABS_API_KEY: keyList,
  ELEVENLABS_BASE_URL: z.string().url().default('https://api.elevenlabs.io'),
  ELEVENLABS_MODEL: z.string().default('eleven_multilingual_v2'),
  ELEVENLABS_VOICE: z.string().default('21m00Tcm4TlvDq8ikWAM'),
  EDGE_VOICE: optionalText,
  AUTOMATIC1111_URL: z.string().url().default('http://127.0.0.1:7860'),
  AUTOMATIC1111_AUTH: optionalText,
  AUTOMATIC1111_MODEL: optionalText,
  COMFYUI_URL: z.string().url().default('http://127.0.0.1:8188'),
  COMFYUI_WORKFLOW: z.string().default(DEFAULT_COMFYUI_WORKFLOW),
  COMFYUI_MODEL: z.string().default('sd_xl_base_1.0.safetensors'),
  COMFYUI_API_KEY: optionalText,

  OPENAI_BASE_URL: z.string().url().default('https://api.openai.com/v1'),
  OPENAI_API_KEY: keyList,
  OPENAI_CHAT_MODEL: z.string().default('gpt-4o-mini'),
  OPENAI_IMAGE_MODEL: z.string().default('gpt-image-1'),
  OPENAI_IMAGE_SIZE: z.string().regex(/^\d+x\d+$/).default('1536x1024'),
  OPENAI_SPEECH_MODEL: z.string().default('gpt-4o-mini-tts'),
  OPENAI_SPEECH_VOICE: z.string().default('alloy'),
  PROVIDER_TIMEOUT_MS: intFrom(120_000, 1_000, 3_600_000),

  DEFAULT_LANGUAGE: z
    .string()
    .default('en')
    .refine((code) => isKnownLanguage(code), LANGUAGE_RULE),
  WORD_PER_CHUNK_IMAGE: intFrom(120, CHUNK_WORD_LIMITS.image.min, CHUNK_WORD_LIMITS.image.max),
  WORD_PER_CHUNK_AUDIO: intFrom(60, CHUNK_WORD_LIMITS.audio.min, CHUNK_WORD_LIMITS.audio.max),

  AUDIO_PAUSE_MS: intFrom(400, 0, 2000),
  NARRATION_LUFS: numberFrom(-16, -40, -5),
  NARRATION_TRUE_PEAK_DB: numberFrom(-1.5, -9, -0.5),
  NARRATION_SAMPLE_RATE: z.coerce.number().int().refine((v) => [22050, 24000, 32000, 44100, 48000].includes(v), {
    message: 'must be one of 22050, 24000, 32000, 44100, 48000',
  }).default(44100),
  NARRATION_BITRATE_KBPS: intFrom(160, 64, 320),

  ESPEAK_NG_PATH: z.string().default('espeak-ng'),
  FFMPEG_PATH: z.string().default('ffmpeg'),
  FFPROBE_PATH: z.string().default('ffprobe'),
  CARD_FONT_FILE: z.string().default('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'),
  SUBTITLE_FONT_FILE: z.string().default('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'),
  TITLE_FONT_FILE: z.string().default('/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf'),

  VIDEO_PRESET: oneOf(X264_PRESETS).default('veryfast'),
  VIDEO_CRF: intFrom(23, 0, 51),
  VIDEO_FPS: intFrom(25, 10, 60),
  VIDEO_SCALE: numberFrom(1, 0.05, 1),
  VIDEO_CROSSFADE_MS: intFrom(600, 0, 5000),
  VIDEO_AUDIO_BITRATE_KBPS: intFrom(160, 32, 512),

  JOB_ATTEMPTS: intFrom(3, 1, 20),
  JOB_BACKOFF_MS: intFrom(2000, 0, 600_000),
  JOB_LOCK_DURATION_MS: intFrom(30_000, 1_000, 3_600_000),
  JOB_STALLED_INTERVAL_MS: intFrom(30_000, 1_000, 3_600_000),
  JOB_MAX_STALLED: intFrom(3, 0, 100),
  SHUTDOWN_GRACE_MS: intFrom(30_000, 0, 3_600_000),
  RECONCILE_INTERVAL_MS: intFrom(60_000, 0, 86_400_000), // 0 = off
  WORKER_HEARTBEAT_MS: intFrom(5_000, 200, 60_000),
  WORKER_HEARTBEAT_TIMEOUT_MS: intFrom(30_000, 1_000, 3_600_000),
  STORY_CONCURRENCY: intFrom(2, 1, 64),
  IMAGE_CONCURRENCY: intFrom(2, 1, 64),
  AUDIO_CONCURRENCY: intFrom(2, 1, 64),
  MERGE_CONCURRENCY: intFrom(1, 1, 64),
  VIDEO_CONCURRENCY: intFrom(1, 1, 64),
}).superRefine((env, ctx) => {
  if (env.WORKER_HEARTBEAT_TIMEOUT_MS < 3 * env.WORKER_HEARTBEAT_MS) {
    ctx.addIssue({ code: 'custom', path: ['WORKER_HEARTBEAT_TIMEOUT_MS'], message: `must be at least 3 × WORKER_HEARTBEAT_MS (${3 * env.WORKER_HEARTBEAT_MS}), so that one late heartbeat does not count a live worker as dead` });
  }
  if (env.STORAGE_DRIVER === 's3' && !env.S3_BUCKET) {
    ctx.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'must name the bucket when STORAGE_DRIVER is s3' });
  }
});

export type Env = z.infer<typeof envSchema>;

/** The configuration every part reads; parsed once at start-up by {@link loadConfig}. */
export interface AppConfig {
  dataDir: string;
  /**
   * Where uploads and artifacts are kept: `local` = `<dataDir>/files` (every API and worker process
   * must see the same folder), `s3` = a bucket of AWS S3 or an S3-compatible store (MinIO,
   * Cloudflare R2 …), so that hosts share no disk. Credentials of `s3` come from the AWS SDK's usual
   * sources (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role).
   */
  storage: {
    driver: 'local' | 's3';
    s3?: {
      bucket: string;
      /** Custom endpoint (MinIO, R2 …); undefined = AWS S3 of `region`. */
      endpoint?: string;
      region: string;
      /** `http://host/bucket/key` addressing instead of `http://bucket.host/key` (MinIO and most local servers need it). */
      forcePathStyle: boolean;
      /** Folder-like prefix of every key in the bucket, e.g. `storyforge`; '' = none. */
      prefix: string;
      /** Downloads answer 302 to a presigned URL of the bucket instead of streaming through the API. */
      presignedDownloads: boolean;
      /** Lifetime of a presigned download URL, s. */
      presignedTtlS: number;
    };
  };
  /** PostgreSQL connection string, or undefined for embedded PGlite under `dataDir/pglite`. */
  databaseUrl?: string;
  redisUrl: string;
  queuePrefix: string;
  logLevel: Env['LOG_LEVEL'];
  /** `json` lines, `pretty` lines for a person, or `auto`: pretty when stdout is a terminal. */
  logFormat: Env['LOG_FORMAT'];
  metrics: {
    /**
     * Bearer token `GET /metrics` needs; undefined = metrics answer only to clients on this
     * machine (loopback addresses).
     */
    token?: string;
    /** Where `storyforge worker` serves its own /metrics (a worker has no API port); port 0 = not at all. */
    host: string;
    port: number;
  };
  http: {
    host: string;
    port: number;
    /** Origins allowed by CORS (HTTP and WebSocket); empty = no cross-origin access. */
    corsOrigins: string[];
    /**
     * Express's `trust proxy`: which proxies in front of the API to believe about the client's
     * address (rate limits by address use it). false = none (the default), true = any, a number
     * = that many hops, or addresses/subnets/`loopback`/`uniquelocal`, comma-separated.
     */
    trustProxy: boolean | number | string;
    /** Most files per upload request, and largest file, bytes. */
    upload: { maxFiles: number; maxBytes: number };
    /** Requests per window (ms): `auth` per client IP on register and login, `upload` per user. */
    rateLimit: { windowMs: number; auth: number; upload: number };
  };
  auth: {
    /** HS256 signing secret; undefined = generated once and kept in `DATA_DIR/jwt-secret`. */
    jwtSecret?: string;
    /** Lifetime of an access token, s. */
    accessTtlS: number;
    /** Lifetime of a refresh token (a sign-in session), s. */
    refreshTtlS: number;
  };
  providers: {
    /** Default choice per capability, `provider[:model][:voice]` (see shared/provider-names.ts). */
    storyWriter: string;
    imageGenerator: string;
    speechSynthesizer: string;
    /** Choices tried in order after the first one fails for good or stays down (see fallbackAfterMs). */
    fallback: Record<Capability, string[]>;
    /** How long a provider may keep failing with retryable errors before the fallback is used, ms; 0 = at once. */
    fallbackAfterMs: number;
    /** Per-call timeout for networked providers, ms. */
    timeoutMs: number;
    /** Limits by `provider` or `capability.provider` (the latter wins field by field). */
    limits: Record<string, ProviderLimit>;
    gemini: { baseUrl: string; apiKeys: string[]; chatModel: string; imageModel: string; speechModel: string; speechVoice: string };
    anthropic: { baseUrl: string; apiKeys: string[]; model: string };
    elevenlabs: { baseUrl: string; apiKeys: string[]; model: string; voice: string };
    /** Default Edge voice; by the story's language when absent. */
    edge: { voice?: string };
    /** `auth` is `user:password` of `--api-auth`. */
    automatic1111: { baseUrl: string; auth?: string; model?: string };
    comfyui: { baseUrl: string; workflowFile: string; model: string; apiKey?: string };
    openai: {
      baseUrl: string;
      /** Several keys are used in turn by the `openai` and `openai-compatible` providers. */
      apiKeys: string[];
      chatModel: string;
      imageModel: string;
      imageSize: `${number}x${number}`;
      speechModel: string;
      speechVoice: string;
    };
  };
  defaults: { language: string; wordPerChunkImage: number; wordPerChunkAudio: number };
  narration: {
    /** Silence between clips, ms. */
    pauseMs: number;
    /** Integrated loudness target, LUFS (EBU R128 / ITU-R BS.1770). */
    lufs: number;
    /** True-peak ceiling given to loudnorm, dBTP; kept below −1 dBTP to leave room for MP3 encoding. */
    truePeakDb: number;
    /** Output sample rate, Hz. */
    sampleRate: number;
    bitrateKbps: number;
  };
  binaries: { espeakNg: string; ffmpeg: string; ffprobe: string };
  cardFontFile: string;
  video: {
    /** x264 speed preset (`veryfast` keeps 1080p rendering well above real time on two cores). */
    preset: X264Preset;
    /** x264 constant rate factor: 0 lossless … 51 worst; 23 is x264's default. */
    crf: number;
    fps: number;
    /** Frame size relative to the preset (1 = 1920×1080 / 1080×1920); below 1 for previews and tests. */
    scale: number;
    /** Crossfade between two images, ms. */
    crossfadeMs: number;
    /** AAC bit rate of the video's sound, kb/s. */
    audioBitrateKbps: number;
    /** Font of burned-in subtitles (needs the text's glyphs; DejaVu Sans has Vietnamese). */
    subtitleFontFile: string;
    /** Font of the title card and the thumbnail's title (DejaVu Sans Bold has Vietnamese). */
    titleFontFile: string;
  };
  jobs: {
    attempts: number;
    /** First retry delay, ms; doubles each attempt (BullMQ exponential backoff). */
    backoffMs: number;
    concurrency: { story: number; images: number; audio: number; merge: number; video: number };
    /**
     * How long a worker's lock on a running job lasts without renewal, ms (BullMQ `lockDuration`;
     * renewed every half of it while the job runs). A job whose worker died is picked up again
     * after about this long (plus up to `stalledIntervalMs`).
     */
    lockDurationMs: number;
    /** How often each worker looks for jobs whose lock expired (stalled jobs), ms (BullMQ `stalledInterval`). */
    stalledIntervalMs: number;
    /**
     * How many times a job may be recovered after its worker died before it fails (BullMQ
     * `maxStalledCount`). Higher survives more crashes and restarts; lower stops sooner a job that
     * itself kills its worker (out of memory, a crashing binary) from taking down worker after worker.
     */
    maxStalled: number;
    /**
     * On SIGTERM, how long running jobs may take to finish, ms; after it they are signalled to stop
     * and released back to the queue for another worker.
     */
    shutdownGraceMs: number;
    /** How often the reconciler rebuilds missing queue jobs from the database, ms; 0 = off. */
    reconcileIntervalMs: number;
    /** How often a worker process renews its heartbeat and that of the step runs it runs, ms. */
    heartbeatMs: number;
    /**
     * How old a heartbeat may be before its worker (and the work it was running) counts as gone,
     * ms; the reconciler queues such work again. At least 3 × `heartbeatMs`.
     */
    heartbeatTimeoutMs: number;
  };
}

/** Variables whose values are secrets: an error message gives their length only. */
const SECRET_VARIABLE = /KEY|SECRET|TOKEN|PASSWORD|AUTH/;

/** How an error message shows a variable's value: quoted, secrets hidden, passwords in URLs blanked. */
function shownValue(name: string, value: string | undefined): string {
  if (value === undefined) return 'unset';
  if (SECRET_VARIABLE.test(name)) return `a hidden value of ${value.length} characters`;
  const shown = value.replace(/(:\/\/[^/\s:@]*):[^@\s/]*@/, '$1:***@');
  return JSON.stringify(shown.length > 200 ? `${shown.slice(0, 200)}…` : shown);
}

/**
 * Parses the environment into an {@link AppConfig}.
 * @throws Error naming every invalid variable, the value it holds (secrets hidden) and what it must be.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const seen = new Set<string>();
    const lines: string[] = [];
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '');
      if (seen.has(name)) continue; // one line per variable
      seen.add(name);
      lines.push(`  ${name}: ${issue.message} (it is ${shownValue(name, env[name])})`);
    }
    throw new Error(`Invalid configuration in the environment:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    dataDir: path.resolve(e.DATA_DIR),
    storage: {
      driver: e.STORAGE_DRIVER,
      s3:
        e.STORAGE_DRIVER === 's3'
          ? {
              bucket: e.S3_BUCKET!,
              endpoint: e.S3_ENDPOINT,
              region: e.S3_REGION,
              forcePathStyle: e.S3_FORCE_PATH_STYLE,
              prefix: e.S3_PREFIX,
              presignedDownloads: e.S3_PRESIGNED_DOWNLOADS,
              presignedTtlS: e.S3_PRESIGNED_TTL_S,
            }
          : undefined,
    },
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    metrics: { token: e.METRICS_TOKEN, host: e.METRICS_HOST, port: e.METRICS_PORT },
    http: {
      host: e.HOST,
      port: e.PORT,
      corsOrigins: e.CORS_ORIGINS,
      trustProxy: e.TRUST_PROXY,
      upload: { maxFiles: e.UPLOAD_MAX_FILES, maxBytes: e.UPLOAD_MAX_BYTES },
      rateLimit: { windowMs: e.RATE_LIMIT_WINDOW_MS, auth: e.RATE_LIMIT_AUTH, upload: e.RATE_LIMIT_UPLOAD },
    },
    auth: { jwtSecret: e.JWT_SECRET, accessTtlS: e.JWT_ACCESS_TTL_S, refreshTtlS: e.JWT_REFRESH_TTL_S },
    providers: {
      storyWriter: e.STORY_WRITER,
      imageGenerator: e.IMAGE_GENERATOR,
      speechSynthesizer: e.SPEECH_SYNTHESIZER,
      fallback: { writer: e.WRITER_FALLBACK, images: e.IMAGES_FALLBACK, speech: e.SPEECH_FALLBACK },
      fallbackAfterMs: e.FALLBACK_AFTER_MS,
      timeoutMs: e.PROVIDER_TIMEOUT_MS,
      limits: e.PROVIDER_LIMITS,
      gemini: {
        baseUrl: e.GEMINI_BASE_URL,
        apiKeys: e.GEMINI_API_KEY,
        chatModel: e.GEMINI_CHAT_MODEL,
        imageModel: e.GEMINI_IMAGE_MODEL,
        speechModel: e.GEMINI_SPEECH_MODEL,
        speechVoice: e.GEMINI_SPEECH_VOICE,
      },
      anthropic: { baseUrl: e.ANTHROPIC_BASE_URL, apiKeys: e.ANTHROPIC_API_KEY, model: e.ANTHROPIC_MODEL },
      elevenlabs: { baseUrl: e.ELEVENLABS_BASE_URL, apiKeys: e.ELEVENLABS_API_KEY, model: e.ELEVENLABS_MODEL, voice: e.ELEVENLABS_VOICE },
      edge: { voice: e.EDGE_VOICE },
      automatic1111: { baseUrl: e.AUTOMATIC1111_URL, auth: e.AUTOMATIC1111_AUTH, model: e.AUTOMATIC1111_MODEL },
      comfyui: { baseUrl: e.COMFYUI_URL, workflowFile: path.resolve(e.COMFYUI_WORKFLOW), model: e.COMFYUI_MODEL, apiKey: e.COMFYUI_API_KEY },
      openai: {
        baseUrl: e.OPENAI_BASE_URL,
        apiKeys: e.OPENAI_API_KEY,
        chatModel: e.OPENAI_CHAT_MODEL,
        imageModel: e.OPENAI_IMAGE_MODEL,
        imageSize: e.OPENAI_IMAGE_SIZE as `${number}x${number}`,
        speechModel: e.OPENAI_SPEECH_MODEL,
        speechVoice: e.OPENAI_SPEECH_VOICE,
      },
    },
    defaults: {
      language: e.DEFAULT_LANGUAGE,
      wordPerChunkImage: e.WORD_PER_CHUNK_IMAGE,
      wordPerChunkAudio: e.WORD_PER_CHUNK_AUDIO,
    },
    narration: {
      pauseMs: e.AUDIO_PAUSE_MS,
      lufs: e.NARRATION_LUFS,
      truePeakDb: e.NARRATION_TRUE_PEAK_DB,
      sampleRate: e.NARRATION_SAMPLE_RATE,
      bitrateKbps: e.NARRATION_BITRATE_KBPS,
    },
    binaries: { espeakNg: e.ESPEAK_NG_PATH, ffmpeg: e.FFMPEG_PATH, ffprobe: e.FFPROBE_PATH },
    cardFontFile: e.CARD_FONT_FILE,
    video: {
      preset: e.VIDEO_PRESET,
      crf: e.VIDEO_CRF,
      fps: e.VIDEO_FPS,
      scale: e.VIDEO_SCALE,
      crossfadeMs: e.VIDEO_CROSSFADE_MS,
      audioBitrateKbps: e.VIDEO_AUDIO_BITRATE_KBPS,
      subtitleFontFile: e.SUBTITLE_FONT_FILE,
      titleFontFile: e.TITLE_FONT_FILE,
    },
    jobs: {
      attempts: e.JOB_ATTEMPTS,
      backoffMs: e.JOB_BACKOFF_MS,
      concurrency: {
        story: e.STORY_CONCURRENCY,
        images: e.IMAGE_CONCURRENCY,
        audio: e.AUDIO_CONCURRENCY,
        merge: e.MERGE_CONCURRENCY,
        video: e.VIDEO_CONCURRENCY,
      },
      lockDurationMs: e.JOB_LOCK_DURATION_MS,
      stalledIntervalMs: e.JOB_STALLED_INTERVAL_MS,
      maxStalled: e.JOB_MAX_STALLED,
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
      reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
      heartbeatMs: e.WORKER_HEARTBEAT_MS,
      heartbeatTimeoutMs: e.WORKER_HEARTBEAT_TIMEOUT_MS,
    },
  };
}
