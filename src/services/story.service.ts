import { Inject, Injectable } from '@nestjs/common';
import type { AuthUser } from '../shared/auth-user.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { Story } from '../db/schema.js';
import { pageOf, type PageQueryDto } from '../dtos/pagination.dto.js';
import { mapStory, mapStoryDetail, type StoryDetailDto, type StoryDto, type StoryPageDto } from '../dtos/story-response.dto.js';
import { type CreateStoryDto, type GenerateStoryDto, type StoryListQueryDto, UPLOAD_URL_PATTERN } from '../dtos/story.dto.js';
import { ApiError, notFound } from '../shared/api-error.js';
import { QueueRepository } from '../repositories/queue.repository.js';
import { artifactKeys, StorageRepository } from '../repositories/storage.repository.js';
import { STEP_COLUMN, StoryRepository } from '../repositories/story.repository.js';
import { UploadRepository } from '../repositories/upload.repository.js';
import { normalizeText } from '../text/normalize.js';
import { BatchService } from './batch.service.js';
import { pipelineStep } from '../pipeline/catalog.js';
import { OrchestratorService } from '../pipeline/orchestrator.service.js';
import { ProviderChoiceService } from './provider-choice.service.js';
import { IdempotencyService, type IdempotentResult } from './idempotency.service.js';
import { RecoveryService } from './recovery.service.js';
import { StoryReplayService } from './story-replay.service.js';
import { initialStepStatuses } from './requested-steps.js';

/** Steps a user may start by hand (auto mode off, or to retry a failed one). */
export type ManualStep = 'images' | 'audio' | 'merge';

/** The upload id in an upload URL (absolute or relative), or undefined. */
export function uploadIdFromUrl(url: string): string | undefined {
  return UPLOAD_URL_PATTERN.exec(url.trim())?.[1]?.toLowerCase();
}

/**
 * Stories as their owner sees them over the API: making one from text or an upload, generating it,
 * listing, reading, deleting, and starting a step by hand. Another user's story answers 404.
 */
@Injectable()
export class StoryService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly stories: StoryRepository,
    private readonly uploads: UploadRepository,
    private readonly storage: StorageRepository,
    private readonly queues: QueueRepository,
    private readonly batches: BatchService,
    private readonly orchestrator: OrchestratorService,
    private readonly recovery: RecoveryService,
    private readonly choices: ProviderChoiceService,
    private readonly idempotency: IdempotencyService,
    private readonly replays: StoryReplayService,
  ) {}

  /**
   * POST /stories: {@link create}, once per `Idempotency-Key` (a repeat within 24 h answers the
   * story the first request made, as it is now).
   * @throws what {@link create} and IdempotencyService.run throw.
   */
  createOnce(user: AuthUser, dto: CreateStoryDto, key: string | undefined): Promise<IdempotentResult<StoryDetailDto>> {
    return this.idempotency.run({ userId: user.id, scope: 'story-create', key, body: dto }, () => this.create(user, dto), (story) => story.id, (id) => this.replays.storyCreated(user, id));
  }

  /**
   * Makes one story (status `pending`) from text or from one of the user's uploads. Nothing runs
   * until POST /stories/:id/generate.
   * @throws ApiError 400 unless exactly one of text, fileId and fileUrl is given; 404 for an
   * unknown upload; 422 `invalid-provider-choice`.
   */
  async create(user: AuthUser, dto: CreateStoryDto): Promise<StoryDetailDto> {
    const providers = await this.choices.check(dto.providers, { language: dto.language, audioVoice: dto.autoMode?.audioVoice });
    const sources = (['text', 'fileId', 'fileUrl'] as const).filter((key) => dto[key] !== undefined);
    if (sources.length !== 1) {
      const fields = sources.length ? sources : (['text', 'fileId', 'fileUrl'] as const);
      throw new ApiError(400, 'validation-failed', 'Give exactly one of text, fileId and fileUrl', [
        ...fields.map((field) => ({ field, message: 'exactly one of text, fileId and fileUrl must be given' })),
      ]);
    }
    let uploadId: string | null = null;
    let content: string;
    if (dto.text !== undefined) {
      content = normalizeText(dto.text);
      if (!content.trim()) throw new ApiError(400, 'validation-failed', 'The text is empty', [{ field: 'text', message: 'text must hold words' }]);
    } else {
      const id = dto.fileId ?? uploadIdFromUrl(dto.fileUrl!)!;
      const upload = await this.uploads.get(id);
      if (!upload || upload.userId !== user.id) {
        throw new ApiError(404, 'not-found', `Upload ${id} was not found`, [{ field: dto.fileId ? 'fileId' : 'fileUrl', message: 'no such upload' }]);
      }
      uploadId = upload.id;
      content = upload.text;
    }
    // DTO instances hold every declared field, unset ones as undefined: spread first, then default.
    const autoMode = this.batches.resolveAutoMode({ ...dto.autoMode, enabled: dto.autoMode?.enabled ?? false });
    await this.batches.checkMusic(user.id, autoMode);
    const story = await this.stories.create({
      userId: user.id,
      uploadId,
      originalContent: content,
      customPrompt: dto.customPrompt ?? null,
      style: dto.style ?? {},
      language: dto.language ?? null,
      autoMode,
      providers,
      ...initialStepStatuses(autoMode),
    });
    return mapStoryDetail(story, [], []);
  }

  /**
   * Runs the story step (again) with the given settings, then what auto mode asks for.
   * @throws ApiError 404; 409 `step-not-startable` when the story step is queued, running or done.
   */
  async generate(user: AuthUser, id: string, dto: GenerateStoryDto): Promise<StoryDto> {
    const story = await this.owned(user, id);
    const providers = dto.providers
      ? await this.choices.check(dto.providers, { language: dto.language ?? story.language ?? undefined, audioVoice: dto.autoMode?.audioVoice })
      : undefined;
    if (story.storyStep !== 'pending' && story.storyStep !== 'failed') {
      throw new ApiError(409, 'step-not-startable', `The story step is ${story.storyStep}; a story is generated once (make a new story to start over)`);
    }
    const autoMode = dto.autoMode ? this.batches.resolveAutoMode({ ...dto.autoMode, enabled: dto.autoMode.enabled ?? true }) : story.autoMode;
    await this.batches.checkMusic(user.id, autoMode);
    await this.stories.update(id, {
      status: 'pending',
      storyStep: 'pending',
      ...initialStepStatuses(autoMode),
      autoMode,
      error: null,
      failedStep: null,
      completedAt: null,
      ...(dto.style ? { style: dto.style } : {}),
      ...(dto.customPrompt !== undefined ? { customPrompt: dto.customPrompt } : {}),
      ...(dto.language !== undefined ? { language: dto.language } : {}),
      ...(providers ? { providers: { ...story.providers, ...providers } } : {}),
    });
    await this.orchestrator.start(id);
    return this.summary(await this.stories.getOrThrow(id));
  }

  /** The user's stories, newest first. */
  async list(user: AuthUser, query: StoryListQueryDto): Promise<StoryPageDto> {
    const page = pageOf(query as PageQueryDto);
    const { items, total } = await this.stories.listByUser(user.id, { batchId: query.batchId, status: query.status }, page);
    return { items: await Promise.all(items.map((story) => this.summary(story))), page: page.page, limit: page.limit, total };
  }

  /** One story with its chunks and file addresses. @throws ApiError 404. */
  async get(user: AuthUser, id: string): Promise<StoryDetailDto> {
    const story = await this.owned(user, id);
    const [images, audio] = await Promise.all([this.stories.imageChunks(id), this.stories.audioChunks(id)]);
    return mapStoryDetail(story, images, audio);
  }

  /** Deletes a story and every file it made; its batch's results are recomputed. @throws ApiError 404. */
  async delete(user: AuthUser, id: string): Promise<void> {
    const story = await this.owned(user, id);
    await this.stories.delete(id);
    await this.storage.removePrefix(artifactKeys.story(id));
    if (story.batchId) await this.batches.refresh(story.batchId);
  }

  /**
   * Starts a step by hand: one that was not requested (`skipped`) or that failed. On a failed
   * story this resumes it: every unfinished step continues, finished chunks are kept.
   * @throws ApiError 404; 409 `step-not-ready` when what the step needs is not done (the story text;
   * for merge, all audio), 409 `step-not-startable` when the step is queued, running or done,
   * 409 `story-cancelled` for a cancelled story (retry it instead).
   */
  async runStep(user: AuthUser, id: string, step: ManualStep): Promise<StoryDto> {
    const story = await this.owned(user, id);
    if (story.storyStep !== 'completed') {
      throw new ApiError(409, 'step-not-ready', `The story text is not ready (story step: ${story.storyStep}); generate the story first`);
    }
    // What the step needs (PIPELINE_STEPS), e.g. every audio clip for the merge.
    const missing = pipelineStep(step).needs.find((need) => story[STEP_COLUMN[need]] !== 'completed');
    if (missing) {
      throw new ApiError(409, 'step-not-ready', `The ${step} step needs the ${missing} step done (${missing} step: ${story[STEP_COLUMN[missing]]}); run POST /stories/${id}/${missing} first`);
    }
    const current = story[STEP_COLUMN[step]];
    if (current !== 'skipped' && current !== 'failed') {
      throw new ApiError(409, 'step-not-startable', `The ${step} step is ${current}${current === 'completed' ? ' already' : ''}`);
    }
    if (story.status === 'cancelled') {
      throw new ApiError(409, 'story-cancelled', `Story ${id} was cancelled; retry it (POST /stories/${id}/retry) to continue`);
    }
    if (!(await this.stories.transitionStep(id, step, ['skipped', 'failed'], 'pending'))) {
      throw new ApiError(409, 'step-not-startable', `The ${step} step was started by another request`);
    }
    if (story.status === 'failed') {
      // A failed story resumes as a retry does: its other unfinished steps start again from where they were.
      await this.recovery.retryStory(id);
    } else {
      await this.stories.reopenForChunk(id, false);
      await this.queues.add('auto-mode', { storyId: id, after: 'story' });
    }
    return this.summary(await this.stories.getOrThrow(id));
  }

  private async summary(story: Story): Promise<StoryDto> {
    const [images, audio] = await Promise.all([this.stories.chunkCounts(story.id, 'images'), this.stories.chunkCounts(story.id, 'audio')]);
    return mapStory(story, { images, audio });
  }

  private async owned(user: AuthUser, id: string): Promise<Story> {
    const story = await this.stories.get(id);
    if (!story || story.userId !== user.id) throw notFound('Story', id);
    return story;
  }
}
