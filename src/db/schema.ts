import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { StoryStyle } from '../shared/story-style.js';
import type { ClipWordTimings } from '../shared/word-timing.js';
import type { CaptionOptions, CaptionPreset } from '../shared/caption-options.js';

/**
 * The database schema. PostgreSQL is the source of truth: everything in Redis can be rebuilt
 * from these tables. Migrations in ./drizzle are generated from this file (`npm run db:generate`).
 */

/**
 * A step's state on a story. `skipped` = not requested for this story; `cancelled` = stopped by a
 * cancel before it finished (a retry sets it back to `pending`).
 */
export const stepStatus = pgEnum('step_status', ['pending', 'queued', 'running', 'completed', 'failed', 'skipped', 'cancelled']);
export type StepStatus = (typeof stepStatus.enumValues)[number];

export const storyStatus = pgEnum('story_status', ['pending', 'processing', 'completed', 'failed', 'cancelled']);
export type StoryStatus = (typeof storyStatus.enumValues)[number];

export const batchStatus = pgEnum('batch_status', ['pending', 'processing', 'completed', 'partially_completed', 'failed', 'cancelled']);
export type BatchStatus = (typeof batchStatus.enumValues)[number];

export const chunkStatus = pgEnum('chunk_status', ['pending', 'completed', 'failed']);
export type ChunkStatus = (typeof chunkStatus.enumValues)[number];

/** The pipeline's steps, in order (seed: story, images, audio, merge; then video). */
export const STEPS = ['story', 'images', 'audio', 'merge', 'video'] as const;
export type StepName = (typeof STEPS)[number];

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true })
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date()),
};

export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  email: text('email').notNull().unique(),
  displayName: text('display_name'),
  passwordHash: text('password_hash'),
  /** May open the queue dashboard (/admin/queues); set by `storyforge user create --admin`. */
  isAdmin: boolean('is_admin').notNull().default(false),
  ...timestamps,
});

/**
 * Personal API keys for scripts. The key itself is shown once when it is made; only its SHA-256
 * hash is kept (a key is 32 random bytes, so a fast hash is enough and lookups stay indexed).
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** The key's first characters (e.g. `sfk_3f9a2c1b`), shown in lists so that keys can be told apart. */
    prefix: text('prefix').notNull(),
    /** SHA-256 of the whole key, hex. */
    keyHash: text('key_hash').notNull().unique(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    ...timestamps,
  },
  (t) => [index('api_keys_user_idx').on(t.userId)],
);

/**
 * Sign-in sessions. Each holds the hash (SHA-256) of its current refresh token, which changes at
 * every refresh; access tokens name their session, so revoking it (logout) ends both at once.
 */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    ...timestamps,
  },
  (t) => [index('refresh_tokens_user_idx').on(t.userId)],
);

export const uploads = pgTable(
  'uploads',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    originalName: text('original_name').notNull(),
    /** Key of the stored original file in the artifact storage. */
    storageKey: text('storage_key').notNull(),
    /** Size of the original file, bytes. */
    sizeBytes: integer('size_bytes').notNull(),
    format: text('format', { enum: ['txt', 'docx', 'doc'] }).notNull(),
    /** Encoding the text was decoded from (txt only). */
    encoding: text('encoding'),
    /** Extracted text: decoded, NFC, LF line ends. */
    text: text('text').notNull(),
    wordCount: integer('word_count').notNull(),
    ...timestamps,
  },
  (t) => [index('uploads_user_idx').on(t.userId)],
);

/**
 * Music files for a batch's videos (POST /file-upload/music, `storyforge run --music`): an audio
 * file accepted by its content (ffprobe), kept as sent under a server-made key.
 */
export const musicFiles = pgTable(
  'music_files',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    originalName: text('original_name').notNull(),
    /** Key of the stored file in the artifact storage. */
    storageKey: text('storage_key').notNull(),
    /** Size of the file, bytes. */
    sizeBytes: integer('size_bytes').notNull(),
    /** Container found by ffprobe. */
    format: text('format', { enum: ['mp3', 'wav', 'ogg', 'm4a'] }).notNull(),
    /** Codec of its audio stream (`mp3`, `aac`, `vorbis`, `opus`, `pcm_s16le` …). */
    codec: text('codec').notNull(),
    /** Length, ms (from the container). */
    durationMs: integer('duration_ms').notNull(),
    ...timestamps,
  },
  (t) => [index('music_files_user_idx').on(t.userId)],
);

/** Per-file entry of a batch's `results[]` (seed field names). */
export interface BatchFileResult {
  file: string;
  uploadId: string;
  storyId: string;
  status: StoryStatus;
  /** The step that failed, when status is `failed`. */
  failedStep?: StepName;
  error?: string;
  /** Wall time from the batch's start to this story's end, ms. */
  processingTime?: number;
}

/** Seed field `progress`. */
export interface BatchProgress {
  currentFile?: string;
  currentStep?: StepName;
  /** 0–100, from finished step work (chunks count), not from elapsed time. */
  percentage: number;
}

/** Seed `AutoModeConfigDto`, as stored in a batch's settings and on each story. */
export interface AutoModeConfig {
  enabled: boolean;
  generateImages: boolean;
  generateAudio: boolean;
  mergeAudio: boolean;
  audioVoice?: string;
  wordPerChunkImage: number;
  wordPerChunkAudio: number;
  customPromptImage?: string;
  customPromptAudio?: string;
  /** Render video.mp4 from the images and the narration (needs images, audio and merge). */
  renderVideo?: boolean;
  /** Frame shape of the video: `16:9` (1920×1080, default) or `9:16` (1080×1920). */
  videoPreset?: '16:9' | '9:16';
  /** Draw the subtitles into the picture as well (they are always a soft track). */
  burnSubtitles?: boolean;
  /** How burned captions look: preset (`classic`, `shorts`), size, colours, outline, position. */
  captions?: CaptionOptions;
  /** Background music under the narration in the video (a music file's id), its level and ducking, dB. */
  music?: MusicSettings;
  /** Open the video with a title card (the title over the first image). */
  titleCard?: boolean;
  /** Speak the title on the title card (implies titleCard). */
  speakTitle?: boolean;
}

/** A batch's background music: which file, how loud against the narration and how far it ducks, dB. */
export interface MusicSettings {
  /** Id of a music file (music_files). */
  fileId: string;
  /** Music loudness relative to the narration in pauses, dB (LU); default −14. */
  volumeDb?: number;
  /** How much further the music drops while the voice speaks, dB; default 12. */
  duckingDb?: number;
}

export interface BatchSettings {
  autoMode: AutoModeConfig;
  style: StoryStyle;
  customPrompt?: string;
  language?: string;
  /** Providers chosen for every story of the batch. */
  providers?: StoryProviders;
}

export const batchJobs = pgTable(
  'batch_jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    status: batchStatus('status').notNull().default('pending'),
    totalFiles: integer('total_files').notNull(),
    processedFiles: integer('processed_files').notNull().default(0),
    failedFiles: integer('failed_files').notNull().default(0),
    settings: jsonb('settings').$type<BatchSettings>().notNull(),
    results: jsonb('results').$type<BatchFileResult[]>().notNull().default(sql`'[]'::jsonb`),
    progress: jsonb('progress').$type<BatchProgress>().notNull().default(sql`'{"percentage":0}'::jsonb`),
    startedAt: timestamp('started_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    ...timestamps,
  },
  (t) => [index('batch_jobs_user_idx').on(t.userId)],
);

/** Providers chosen for one story, each `provider[:model][:voice]` (see shared/provider-names.ts). */
export interface StoryProviders {
  writer?: string;
  images?: string;
  speech?: string;
}

/** Story metadata: word counts, timings, and which provider and model made each part. */
export interface StoryMetadata {
  /** Characters, setting and art style from the story writer, carried by every image prompt. */
  visualDescription?: string;
  /** Seed given to every image of the story (generators that take one draw alike pictures). */
  imageSeed?: number;
  /** Parts made by a fallback provider, e.g. `audio 3: espeak-ng (after edge)`. */
  fallbacks?: string[];
  sourceWordCount?: number;
  wordCount?: number;
  /** How the language was chosen. */
  languageSource?: 'given' | 'detected' | 'default';
  providers?: Partial<Record<'story' | 'images' | 'audio', { provider: string; model: string; voice?: string }>>;
  /** Wall time per finished step, ms. */
  stepDurationsMs?: Partial<Record<StepName, number>>;
  /** Wall time from the story's first step to its last, ms. */
  processingTime?: number;
  /** The merged narration: its decoded length, rate, loudness target and what was measured. */
  narration?: {
    durationMs: number;
    sampleRate: number;
    /** Target integrated loudness, LUFS, and true-peak ceiling, dBTP. */
    lufs: number;
    truePeakDb: number;
    /** Loudness of the joined clips before and of the written file after normalisation, LUFS. */
    measuredInputLufs?: number;
    measuredOutputLufs?: number;
    measuredOutputTruePeakDb?: number;
    method?: string;
    /** Silence the merge put between clips, ms (the timeline uses it). */
    pauseMs?: number;
  };
  /** Subtitles made with the narration: cue count, word count (subtitles.words.vtt when > 0), and how far the timeline's end is from the decoded narration's. */
  subtitles?: { cues: number; timelineDurationMs: number; driftMs: number; words?: number };
  /** The rendered video. */
  video?: {
    preset: '16:9' | '9:16';
    width: number;
    height: number;
    fps: number;
    durationMs: number;
    /** Images shown (an image with almost no narration time is left out). */
    slides: number;
    burnedSubtitles: boolean;
    /** The caption preset burned in (when burned). */
    captions?: CaptionPreset;
    /** Wall time of the render, ms, and video seconds made per wall second. */
    renderMs: number;
    speed: number;
    /** Length of the title card before the narration, ms (0 or absent: none). */
    introMs?: number;
  };
  /** The video's sound (`soundtrack.mp3`) when it is more than the narration: music, a title card (null: the video carries the narration). */
  soundtrack?: {
    durationMs: number;
    /** The narration starts this late in it (the title card), ms. */
    narrationStartMs: number;
    titleSpoken: boolean;
    music: { fileId: string; name: string; volumeDb: number; duckingDb: number; measuredLufs?: number; gainDb?: number } | null;
    /** Target and measured loudness, LUFS, and measured true peak, dBTP. */
    lufs: number;
    measuredLufs: number;
    measuredTruePeakDb: number;
    method: string;
  } | null;
  /** `thumbnail.jpg`: its size, pixels. */
  thumbnail?: { width: number; height: number };
}

export const stories = pgTable(
  'stories',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    batchId: uuid('batch_id').references(() => batchJobs.id, { onDelete: 'set null' }),
    uploadId: uuid('upload_id').references(() => uploads.id, { onDelete: 'set null' }),
    /** Position of the story in its batch, 0-based. */
    position: integer('position').notNull().default(0),
    title: text('title'),
    originalContent: text('original_content').notNull(),
    generatedContent: text('generated_content'),
    customPrompt: text('custom_prompt'),
    style: jsonb('style').$type<StoryStyle>().notNull().default(sql`'{}'::jsonb`),
    /** ISO 639-1 code. */
    language: text('language'),
    autoMode: jsonb('auto_mode').$type<AutoModeConfig>().notNull(),
    /** Providers chosen for this story (`provider[:model][:voice]` per capability); absent = the server's defaults. */
    providers: jsonb('providers').$type<StoryProviders>().notNull().default(sql`'{}'::jsonb`),
    status: storyStatus('status').notNull().default('pending'),
    storyStep: stepStatus('story_step').notNull().default('pending'),
    imagesStep: stepStatus('images_step').notNull().default('pending'),
    audioStep: stepStatus('audio_step').notNull().default('pending'),
    mergeStep: stepStatus('merge_step').notNull().default('pending'),
    /** Not requested unless auto mode asks for a video (see requestedSteps). */
    videoStep: stepStatus('video_step').notNull().default('skipped'),
    /** Storage key of narration.mp3 once merged. */
    narrationKey: text('narration_key'),
    /** Storage key of subtitles.srt (subtitles.vtt beside it), written with the narration. */
    subtitlesKey: text('subtitles_key'),
    /** Storage key of video.mp4 once rendered. */
    videoKey: text('video_key'),
    metadata: jsonb('metadata').$type<StoryMetadata>().notNull().default(sql`'{}'::jsonb`),
    error: text('error'),
    failedStep: text('failed_step', { enum: STEPS }),
    /**
     * Incremented by every retry: a job that began before the retry and fails afterwards must not
     * fail the retried story (see StoryRepository.failStep).
     */
    generation: integer('generation').notNull().default(0),
    startedAt: timestamp('started_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    ...timestamps,
  },
  (t) => [index('stories_batch_idx').on(t.batchId), index('stories_user_idx').on(t.userId)],
);

const chunkColumns = {
  id: uuid('id').primaryKey().defaultRandom(),
  storyId: uuid('story_id')
    .notNull()
    .references(() => stories.id, { onDelete: 'cascade' }),
  /** 0-based position in the story. */
  index: integer('index').notNull(),
  text: text('text').notNull(),
  status: chunkStatus('status').notNull().default('pending'),
  /** Storage key of the artifact, deterministic per story and index. */
  storageKey: text('storage_key'),
  provider: text('provider'),
  model: text('model'),
  error: text('error'),
  ...timestamps,
};

export const imageChunks = pgTable(
  'image_chunks',
  {
    ...chunkColumns,
    prompt: text('prompt').notNull(),
    placeholder: boolean('placeholder').notNull().default(false),
  },
  (t) => [uniqueIndex('image_chunks_story_index_uq').on(t.storyId, t.index)],
);

export const audioChunks = pgTable(
  'audio_chunks',
  {
    ...chunkColumns,
    /** Text sent to the speech engine (the chunk text prepared for speech). */
    spokenText: text('spoken_text').notNull(),
    voice: text('voice'),
    /** Decoded duration of the clip, ms (ffprobe/ffmpeg), never assumed. */
    durationMs: integer('duration_ms'),
    /**
     * When each word of the clip is spoken, clip-relative ms: from the speech provider when it
     * reports them, else estimated from the clip (see media/word-timings.ts).
     */
    words: jsonb('words').$type<ClipWordTimings>(),
  },
  (t) => [uniqueIndex('audio_chunks_story_index_uq').on(t.storyId, t.index)],
);

/** One execution of one step (or one chunk of it) by a worker: for diagnostics and timing. */
export const stepRuns = pgTable(
  'step_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    storyId: uuid('story_id')
      .notNull()
      .references(() => stories.id, { onDelete: 'cascade' }),
    step: text('step', { enum: STEPS }).notNull(),
    chunkIndex: integer('chunk_index'),
    /** 1-based attempt number from the queue. */
    attempt: integer('attempt').notNull(),
    status: text('status', { enum: ['running', 'completed', 'failed'] }).notNull(),
    jobId: text('job_id'),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    durationMs: integer('duration_ms'),
    /**
     * Last sign of life of the worker running this, renewed every WORKER_HEARTBEAT_MS while it
     * runs (see WorkerRegistryService). A `running` row whose heartbeat is older than
     * WORKER_HEARTBEAT_TIMEOUT_MS belongs to a worker that died.
     */
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }).notNull().defaultNow(),
    /** The worker process running (or that ran) it; null for runs from before workers were recorded. */
    workerId: uuid('worker_id').references(() => workers.id, { onDelete: 'set null' }),
  },
  (t) => [index('step_runs_story_idx').on(t.storyId), index('step_runs_worker_idx').on(t.workerId)],
);

/**
 * Worker processes (`serve` with workers, `worker`, `run`): one row per process start. A worker
 * renews `heartbeat_at` every WORKER_HEARTBEAT_MS while it runs; one whose heartbeat is older than
 * WORKER_HEARTBEAT_TIMEOUT_MS is gone. `drain_requested_at` asks it to stop taking jobs, finish
 * what it runs and exit (`storyforge worker drain`).
 */
export const workers = pgTable(
  'workers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    host: text('host').notNull(),
    pid: integer('pid').notNull(),
    /** `running`, `draining` (takes no new job), or `stopped` (exited cleanly). */
    state: text('state', { enum: ['running', 'draining', 'stopped'] }).notNull().default('running'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }).notNull().defaultNow(),
    drainRequestedAt: timestamp('drain_requested_at', { withTimezone: true }),
    stoppedAt: timestamp('stopped_at', { withTimezone: true }),
  },
  (t) => [index('workers_heartbeat_idx').on(t.heartbeatAt)],
);

/**
 * `Idempotency-Key` records: one per user, operation and key. The first request stores the hash of
 * its body and, once done, the id of what it made; a repeat with the same body gets that again,
 * one with another body is refused (409). Keys are kept 24 h (see IdempotencyService).
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The operation the key was used for, e.g. `batch-create`, `story-create`. */
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    /** SHA-256 (hex) of the request body in canonical JSON. */
    requestHash: text('request_hash').notNull(),
    /** Id of the batch or story the first request made; null while that request is still running. */
    resourceId: uuid('resource_id'),
    ...timestamps,
  },
  (t) => [uniqueIndex('idempotency_keys_user_scope_key_uq').on(t.userId, t.scope, t.key)],
);

/**
 * This database's identity: one row, made at first start. Redis keys (queues, live events, rate
 * limits, cancel signals) are prefixed with it, so installations with different databases never
 * share work on one Redis (see installationQueuePrefix).
 */
export const installation = pgTable(
  'installation',
  {
    /** Always true: the primary key that allows a single row. */
    singleton: boolean('singleton').primaryKey().default(true),
    id: uuid('id').notNull().defaultRandom(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** When the last scheduled reconciler pass began, by any process (one pass per interval across processes). */
    reconciledAt: timestamp('reconciled_at', { withTimezone: true }),
  },
  (t) => [check('installation_single_row', sql`${t.singleton}`)],
);

export type User = typeof users.$inferSelect;
export type ApiKey = typeof apiKeys.$inferSelect;
export type RefreshToken = typeof refreshTokens.$inferSelect;
export type Upload = typeof uploads.$inferSelect;
export type MusicFile = typeof musicFiles.$inferSelect;
export type BatchJob = typeof batchJobs.$inferSelect;
export type Story = typeof stories.$inferSelect;
export type ImageChunk = typeof imageChunks.$inferSelect;
export type AudioChunk = typeof audioChunks.$inferSelect;
export type StepRun = typeof stepRuns.$inferSelect;
export type Worker = typeof workers.$inferSelect;
export type IdempotencyKey = typeof idempotencyKeys.$inferSelect;
