import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { X264_PRESETS, type X264Preset } from '../media/video.js';
import { isKnownLanguage, LANGUAGE_RULE } from '../text/language.js';

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

const intFrom = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const numberFrom = (fallback: number, min: number, max: number) => z.coerce.number().min(min).max(max).default(fallback);

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

/**
 * Every environment variable Storyforge reads, with its default. README.md's configuration table
 * lists the same names; keep them in step.
 */
export const envSchema = z.object({
  DATA_DIR: z.string().default('./data'),
  DATABASE_URL: optionalText,
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_.:-]+$/).default('storyforge'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
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

  STORY_WRITER: z.enum(['source', 'openai-compatible']).default('source'),
  IMAGE_GENERATOR: z.enum(['card', 'openai-compatible']).default('card'),
  SPEECH_SYNTHESIZER: z.enum(['espeak-ng', 'openai-compatible']).default('espeak-ng'),

  OPENAI_BASE_URL: z.string().url().default('https://api.openai.com/v1'),
  OPENAI_API_KEY: optionalText,
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

  VIDEO_PRESET: z.enum(X264_PRESETS).default('veryfast'),
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
  STORY_CONCURRENCY: intFrom(2, 1, 64),
  IMAGE_CONCURRENCY: intFrom(2, 1, 64),
  AUDIO_CONCURRENCY: intFrom(2, 1, 64),
  MERGE_CONCURRENCY: intFrom(1, 1, 64),
  VIDEO_CONCURRENCY: intFrom(1, 1, 64),
});

export type Env = z.infer<typeof envSchema>;

/** The configuration every part reads; parsed once at start-up by {@link loadConfig}. */
export interface AppConfig {
  dataDir: string;
  /** PostgreSQL connection string, or undefined for embedded PGlite under `dataDir/pglite`. */
  databaseUrl?: string;
  redisUrl: string;
  queuePrefix: string;
  logLevel: Env['LOG_LEVEL'];
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
    storyWriter: Env['STORY_WRITER'];
    imageGenerator: Env['IMAGE_GENERATOR'];
    speechSynthesizer: Env['SPEECH_SYNTHESIZER'];
    /** Per-call timeout for networked providers, ms. */
    timeoutMs: number;
    openai: {
      baseUrl: string;
      apiKey?: string;
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
  };
}

/**
 * Parses the environment into an {@link AppConfig}.
 * @throws Error listing every invalid variable and what it must be.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid configuration in the environment:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    logLevel: e.LOG_LEVEL,
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
      timeoutMs: e.PROVIDER_TIMEOUT_MS,
      openai: {
        baseUrl: e.OPENAI_BASE_URL,
        apiKey: e.OPENAI_API_KEY,
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
    },
  };
}
