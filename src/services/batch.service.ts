import { isDeepStrictEqual } from 'node:util';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { AutoModeConfig, BatchJob, BatchSettings, Story, StoryProviders } from '../db/schema.js';
import type { StoryStyle } from '../shared/story-style.js';
import { BatchRepository } from '../repositories/batch.repository.js';
import { EventsRepository } from '../repositories/events.repository.js';
import { QueueRepository } from '../repositories/queue.repository.js';
import { StoryRepository } from '../repositories/story.repository.js';
import { UploadRepository } from '../repositories/upload.repository.js';
import { MusicRepository } from '../repositories/music.repository.js';
import { type BatchSummary, type StoryProgressInput, summarizeBatch } from '../dtos/batch-progress.js';
import { ApiError } from '../shared/api-error.js';
import { initialStepStatuses, videoBlockers } from './requested-steps.js';
import { MAX_BATCH_FILES } from '../shared/batch-limits.js';

export interface CreateBatchInput {
  userId: string;
  uploadIds: string[];
  style?: StoryStyle;
  customPrompt?: string;
  /** ISO 639-1 code for every story; detected per story when absent. */
  language?: string;
  autoMode?: Partial<AutoModeConfig>;
  /** Providers for every story (already checked, see ProviderChoiceService); the server's defaults when absent. */
  providers?: StoryProviders;
}

/** A value as PostgreSQL's jsonb gives it back (fields that are undefined are left out). */
const asStored = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/** How many times one refresh writes at most while the batch's stories keep changing under it. */
const REFRESH_PASSES = 3;

/**
 * Batches: creating one (a story per upload), starting its stories, and keeping its seed fields
 * (status, counts, results[], progress) in step with its stories.
 */
@Injectable()
export class BatchService {
  private readonly logger = new Logger('Batches');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly batches: BatchRepository,
    private readonly stories: StoryRepository,
    private readonly uploads: UploadRepository,
    private readonly queues: QueueRepository,
    private readonly events: EventsRepository,
    private readonly music: MusicRepository,
  ) {}

  /**
   * Auto-mode settings with every field filled from the configuration's defaults.
   * @throws ApiError 400 `validation-failed` when `renderVideo` is on but a step the video needs is
   * switched off ({@link videoBlockers}).
   */
  resolveAutoMode(partial: Partial<AutoModeConfig> = {}): AutoModeConfig {
    const blockers = videoBlockers(partial);
    if (blockers.length) {
      const message = `renderVideo needs the images and the merged narration: set ${blockers.join(', ')} to true or leave renderVideo out`;
      throw new ApiError(400, 'validation-failed', message, blockers.map((b) => ({ field: `autoMode.${b}`, message })));
    }
    const videoOnly = (['music', 'titleCard', 'speakTitle'] as const).filter((field) => partial[field] && partial.renderVideo !== true);
    if (videoOnly.length) {
      const message = `${videoOnly.join(', ')} belong to the video: set renderVideo to true or leave them out`;
      throw new ApiError(400, 'validation-failed', message, videoOnly.map((field) => ({ field: `autoMode.${field}`, message })));
    }
    return {
      enabled: partial.enabled ?? true,
      generateImages: partial.generateImages ?? true,
      generateAudio: partial.generateAudio ?? true,
      mergeAudio: partial.mergeAudio ?? true,
      audioVoice: partial.audioVoice,
      wordPerChunkImage: partial.wordPerChunkImage ?? this.config.defaults.wordPerChunkImage,
      wordPerChunkAudio: partial.wordPerChunkAudio ?? this.config.defaults.wordPerChunkAudio,
      customPromptImage: partial.customPromptImage,
      customPromptAudio: partial.customPromptAudio,
      renderVideo: partial.renderVideo ?? false,
      videoPreset: partial.videoPreset ?? '16:9',
      burnSubtitles: partial.burnSubtitles ?? false,
      ...(partial.captions ? { captions: partial.captions } : {}),
      ...(partial.music ? { music: partial.music } : {}),
      ...(partial.titleCard || partial.speakTitle ? { titleCard: true } : {}),
      ...(partial.speakTitle ? { speakTitle: true } : {}),
    };
  }

  /**
   * Checks that the music of an auto mode is the user's own music file.
   * @throws ApiError 400 `validation-failed` (field `autoMode.music.fileId`) when it is not.
   */
  async checkMusic(userId: string, autoMode: Pick<AutoModeConfig, 'music'>): Promise<void> {
    const id = autoMode.music?.fileId;
    if (!id) return;
    const file = await this.music.get(id);
    if (file && file.userId === userId) return;
    const message = `music file ${id} was not found among your music files; upload one with POST /file-upload/music and pass its id`;
    throw new ApiError(400, 'validation-failed', message, [{ field: 'autoMode.music.fileId', message }]);
  }

  /**
   * Creates a batch with one story per upload (in the given order) and queues it.
   * @throws Error when there are no uploads, more than {@link MAX_BATCH_FILES}, or an id is unknown
   * or belongs to another user.
   */
  async create(input: CreateBatchInput): Promise<{ batch: BatchJob; stories: Story[] }> {
    if (input.uploadIds.length === 0) throw new Error('A batch needs at least one uploaded file');
    if (input.uploadIds.length > MAX_BATCH_FILES) {
      throw new Error(`A batch takes at most ${MAX_BATCH_FILES} files; got ${input.uploadIds.length}`);
    }
    const found = await this.uploads.list(input.uploadIds);
    const byId = new Map(found.filter((u) => u.userId === input.userId).map((u) => [u.id, u]));
    const missing = input.uploadIds.filter((id) => !byId.has(id));
    if (missing.length) throw new Error(`Unknown upload ids: ${missing.join(', ')}`);

    const autoMode = this.resolveAutoMode(input.autoMode);
    await this.checkMusic(input.userId, autoMode);
    const settings: BatchSettings = {
      autoMode,
      style: input.style ?? {},
      customPrompt: input.customPrompt,
      language: input.language,
      ...(input.providers && Object.keys(input.providers).length ? { providers: input.providers } : {}),
    };
    const created = await this.batches.createWithStories(
      { userId: input.userId, settings, totalFiles: input.uploadIds.length },
      input.uploadIds.map((uploadId, position) => ({
        userId: input.userId,
        uploadId,
        position,
        originalContent: byId.get(uploadId)!.text,
        customPrompt: input.customPrompt ?? null,
        style: input.style ?? {},
        language: input.language ?? null,
        autoMode,
        providers: input.providers ?? {},
        ...initialStepStatuses(autoMode),
      })),
    );
    try {
      await this.queues.add('batch-stories', { batchId: created.batch.id });
    } catch (error) {
      // The batch is stored: the reconciler queues a `pending` batch, so the request still succeeds
      // (answering an error here would invite a second, duplicate batch).
      this.logger.warn(`Batch ${created.batch.id} stored but not queued yet (${(error as Error).message}); the reconciler will queue it`);
    }
    return created;
  }

  /** The `batch-stories` job: marks the batch started and queues the story step of each story. */
  async start(batchId: string, startStory: (storyId: string) => Promise<void>): Promise<void> {
    const batch = await this.batches.get(batchId);
    if (!batch) throw new Error(`Batch ${batchId} does not exist`);
    if (batch.status === 'cancelled') return;
    if (batch.status === 'pending') {
      await this.batches.update(batchId, { status: 'processing', startedAt: batch.startedAt ?? new Date() });
    }
    for (const story of await this.stories.listByBatch(batchId)) await startStory(story.id);
    await this.refresh(batchId);
  }

  /**
   * Recomputes the batch's seed fields from its stories and emits a batch event; sets the final
   * status and completedAt once every story has ended (a batch that has ended, e.g. cancelled,
   * keeps its status). Safe to call any number of times and from several processes at once: each
   * call reads the stories again after writing and writes again while they moved on meanwhile
   * (at most {@link REFRESH_PASSES} times), so the last writer never leaves an older summary.
   */
  async refresh(batchId: string): Promise<BatchJob | undefined> {
    let written: string | undefined;
    for (let pass = 0; pass < REFRESH_PASSES; pass++) {
      const snapshot = await this.snapshot(batchId);
      if (!snapshot) return undefined;
      const { batch, summary } = snapshot;
      const fingerprint = JSON.stringify([summary.finished, summary.status, summary.results, summary.progress.percentage]);
      if (fingerprint === written) break;
      // Nothing to write when the stored fields already say it all (e.g. a second cancel).
      const fields = { processedFiles: summary.processedFiles, failedFiles: summary.failedFiles, results: summary.results, progress: summary.progress };
      const stored = { processedFiles: batch.processedFiles, failedFiles: batch.failedFiles, results: batch.results, progress: batch.progress };
      const statusSettled = !summary.finished || (batch.status !== 'pending' && batch.status !== 'processing');
      if (statusSettled && isDeepStrictEqual(asStored(fields), asStored(stored))) break;
      await this.batches.updateSummary(
        batchId,
        fields,
        summary.finished ? summary.status : undefined,
      );
      written = fingerprint;
    }
    const batch = await this.batches.get(batchId);
    if (batch) this.events.emit({ type: 'batch', batchId, status: batch.status, progress: batch.progress });
    return batch;
  }

  /**
   * The batch, each story with its chunk counts, and the summary computed from them (read only).
   * Two statements whatever the number of stories: the batch, then its stories with file names
   * and chunk counts ({@link StoryRepository.progressByBatch}).
   */
  async snapshot(batchId: string): Promise<{ batch: BatchJob; inputs: StoryProgressInput[]; summary: BatchSummary } | undefined> {
    const batch = await this.batches.get(batchId);
    if (!batch) return undefined;
    const inputs: StoryProgressInput[] = (await this.stories.progressByBatch(batchId)).map(({ story, uploadName, images, audio, fallbacks }) => ({
      story,
      fileName: uploadName || story.title || story.id,
      images,
      audio,
      fallbacks,
    }));
    return { batch, inputs, summary: summarizeBatch(inputs, batch.startedAt) };
  }
}
