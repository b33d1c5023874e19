import path from 'node:path';
import { z } from 'zod';

/** Injection token for the parsed {@link AppConfig}. */
export const APP_CONFIG = Symbol('APP_CONFIG');

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

  DEFAULT_LANGUAGE: z.string().regex(/^[a-z]{2,3}$/).default('en'),
  WORD_PER_CHUNK_IMAGE: intFrom(120, 10, 2000),
  WORD_PER_CHUNK_AUDIO: intFrom(60, 5, 2000),

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

  JOB_ATTEMPTS: intFrom(3, 1, 20),
  JOB_BACKOFF_MS: intFrom(2000, 0, 600_000),
  STORY_CONCURRENCY: intFrom(2, 1, 64),
  IMAGE_CONCURRENCY: intFrom(2, 1, 64),
  AUDIO_CONCURRENCY: intFrom(2, 1, 64),
  MERGE_CONCURRENCY: intFrom(1, 1, 64),
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
  http: { host: string; port: number };
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
  jobs: {
    attempts: number;
    /** First retry delay, ms; doubles each attempt (BullMQ exponential backoff). */
    backoffMs: number;
    concurrency: { story: number; images: number; audio: number; merge: number };
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
    http: { host: e.HOST, port: e.PORT },
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
    jobs: {
      attempts: e.JOB_ATTEMPTS,
      backoffMs: e.JOB_BACKOFF_MS,
      concurrency: {
        story: e.STORY_CONCURRENCY,
        images: e.IMAGE_CONCURRENCY,
        audio: e.AUDIO_CONCURRENCY,
        merge: e.MERGE_CONCURRENCY,
      },
    },
  };
}
