import { Inject, Injectable } from '@nestjs/common';
import type { AuthUser } from '../shared/auth-user.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { type BatchCreatedDto, type BatchStatusDto, mapBatchCreated, mapBatchStatus } from '../dtos/batch.dto.js';
import type { BatchCreateStoryDto } from '../dtos/story.dto.js';
import { ApiError, type FieldError, notFound } from '../shared/api-error.js';
import { UploadRepository } from '../repositories/upload.repository.js';
import { MAX_BATCH_FILES } from '../shared/batch-limits.js';
import { BatchService } from './batch.service.js';
import { IdempotencyService, type IdempotentResult } from './idempotency.service.js';
import { ProviderChoiceService } from './provider-choice.service.js';
import { StoryReplayService } from './story-replay.service.js';
import { SharedReads } from './shared-read.js';
import { uploadIdFromUrl } from './story.service.js';

/**
 * The API's batch routes (seed: POST /stories/batch-create, GET /stories/batch/:id/status): checks
 * the request against the user's uploads and answers in DTOs; the batches themselves are made,
 * started and summarised by {@link BatchService}.
 */
@Injectable()
export class BatchApiService {
  /** Status polls of one batch that arrive together share one database read. */
  private readonly snapshots = new SharedReads<Awaited<ReturnType<BatchService['snapshot']>>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly batches: BatchService,
    private readonly uploads: UploadRepository,
    private readonly choices: ProviderChoiceService,
    private readonly idempotency: IdempotencyService,
    private readonly replays: StoryReplayService,
  ) {}

  /**
   * POST /stories/batch-create: {@link create}, once per `Idempotency-Key` (a repeat within 24 h
   * answers the batch the first request made, as it is now).
   * @throws what {@link create} and IdempotencyService.run throw.
   */
  createOnce(user: AuthUser, dto: BatchCreateStoryDto, key: string | undefined): Promise<IdempotentResult<BatchCreatedDto>> {
    return this.idempotency.run({ userId: user.id, scope: 'batch-create', key, body: dto }, () => this.create(user, dto), (batch) => batch.batchId, (id) => this.replays.batchCreated(user, id));
  }

  /**
   * Creates a batch with one story per file (fileIds first, then fileUrls) and queues it.
   * @throws ApiError 400 when no file, or more than UPLOAD_MAX_FILES (at most {@link MAX_BATCH_FILES}),
   * are given; 404 naming
   * each upload that does not exist or is another user's; 422 `invalid-provider-choice` (checked
   * first: nothing is stored or queued).
   */
  async create(user: AuthUser, dto: BatchCreateStoryDto): Promise<BatchCreatedDto> {
    const providers = await this.choices.check(dto.providers, { language: dto.language, audioVoice: dto.autoMode?.audioVoice });
    const refs = [
      ...(dto.fileIds ?? []).map((id, i) => ({ id: id.toLowerCase(), field: `fileIds[${i}]` })),
      ...(dto.fileUrls ?? []).map((url, i) => ({ id: uploadIdFromUrl(url)!, field: `fileUrls[${i}]` })),
    ];
    if (refs.length === 0) {
      throw new ApiError(400, 'validation-failed', 'Give at least one uploaded file in fileIds or fileUrls', [
        { field: 'fileIds', message: 'at least one file is required' },
      ]);
    }
    const maxFiles = Math.min(MAX_BATCH_FILES, this.config.http.upload.maxFiles);
    if (refs.length > maxFiles) {
      throw new ApiError(400, 'too-many-files', `A batch takes at most ${maxFiles} files; got ${refs.length}`, [
        { field: 'fileIds', message: `at most ${maxFiles} files in fileIds and fileUrls together` },
      ]);
    }
    const found = new Map((await this.uploads.list(refs.map((r) => r.id))).filter((u) => u.userId === user.id).map((u) => [u.id, u]));
    const missing: FieldError[] = refs.filter((r) => !found.has(r.id)).map((r) => ({ field: r.field, message: `no upload ${r.id}` }));
    if (missing.length) {
      throw new ApiError(404, 'not-found', `Upload${missing.length > 1 ? 's' : ''} not found: ${missing.map((m) => m.field).join(', ')}`, missing);
    }
    const { batch, stories } = await this.batches.create({
      userId: user.id,
      uploadIds: refs.map((r) => r.id),
      style: dto.style,
      customPrompt: dto.customPrompt,
      language: dto.language,
      autoMode: dto.autoMode,
      providers,
    });
    return mapBatchCreated(batch, stories, new Map([...found.values()].map((upload) => [upload.id, upload.originalName])));
  }

  /**
   * The batch as it is now in the database: per-story results and step states, and a percentage
   * computed from finished steps and chunks. Concurrent polls of the same batch share one read
   * (two statements, see BatchService.snapshot). @throws ApiError 404.
   */
  async status(user: AuthUser, batchId: string): Promise<BatchStatusDto> {
    const snapshot = await this.snapshots.run(batchId, () => this.batches.snapshot(batchId));
    if (!snapshot || snapshot.batch.userId !== user.id) throw notFound('Batch', batchId);
    return mapBatchStatus(snapshot.batch, snapshot.inputs, snapshot.summary);
  }
}
