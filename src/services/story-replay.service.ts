import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../shared/auth-user.js';
import { type BatchCreatedDto, mapBatchCreated } from '../dtos/batch.dto.js';
import { mapStoryDetail, type StoryDetailDto } from '../dtos/story-response.dto.js';
import { BatchRepository } from '../repositories/batch.repository.js';
import { StoryRepository } from '../repositories/story.repository.js';
import { UploadRepository } from '../repositories/upload.repository.js';

/**
 * The answers of the creating story routes rebuilt for something made earlier, for replays of an
 * `Idempotency-Key` (IdempotencyService): the same shape as the first answer, with the values as
 * they are now (a batch's `status` may have moved on from `pending`).
 */
@Injectable()
export class StoryReplayService {
  constructor(
    private readonly batches: BatchRepository,
    private readonly stories: StoryRepository,
    private readonly uploads: UploadRepository,
  ) {}

  /** The answer of POST /stories/batch-create for this batch; undefined when it is gone or another user's. */
  async batchCreated(user: AuthUser, batchId: string): Promise<BatchCreatedDto | undefined> {
    const batch = await this.batches.get(batchId);
    if (!batch || batch.userId !== user.id) return undefined;
    const stories = await this.stories.listByBatch(batchId);
    const uploadIds = stories.flatMap((story) => (story.uploadId ? [story.uploadId] : []));
    const names = new Map((await this.uploads.list(uploadIds)).map((upload) => [upload.id, upload.originalName]));
    return mapBatchCreated(batch, stories, names);
  }

  /** The answer of POST /stories for this story; undefined when it is gone or another user's. */
  async storyCreated(user: AuthUser, storyId: string): Promise<StoryDetailDto | undefined> {
    const story = await this.stories.get(storyId);
    if (!story || story.userId !== user.id) return undefined;
    const [images, audio] = await Promise.all([this.stories.imageChunks(storyId), this.stories.audioChunks(storyId)]);
    return mapStoryDetail(story, images, audio);
  }
}
