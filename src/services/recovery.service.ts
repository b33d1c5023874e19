import { Injectable, Logger } from '@nestjs/common';
import type { BatchJob, Story } from '../db/schema.js';
import { ApiError, notFound } from '../shared/api-error.js';
import { chunkStep, dependentSteps, storyJobs } from '../pipeline/catalog.js';
import { BatchRepository } from '../repositories/batch.repository.js';
import { CancelSignalRepository } from '../repositories/cancel-signal.repository.js';
import { EventsRepository } from '../repositories/events.repository.js';
import { QueueRepository } from '../repositories/queue.repository.js';
import { type ChunkKind, STEP_COLUMN, StoryRepository } from '../repositories/story.repository.js';
import { BatchService } from './batch.service.js';
import { OrchestratorService } from '../pipeline/orchestrator.service.js';
import { RollbackService } from '../pipeline/rollback.service.js';

/** How an error message names a chunk of each kind. */
const CHUNK_NOUN: Record<ChunkKind, string> = { images: 'Image chunk', audio: 'Audio chunk' };

/**
 * Cancel, retry and regenerate: the operations a user takes when something went wrong. Each is
 * safe to call twice: the second call finds nothing to do and changes nothing.
 *
 * `owner`, when given, is the user the story or batch must belong to (else 404, as if it did not
 * exist); the command line passes none.
 */
@Injectable()
export class RecoveryService {
  private readonly logger = new Logger('Recovery');

  constructor(
    private readonly stories: StoryRepository,
    private readonly batchRows: BatchRepository,
    private readonly batches: BatchService,
    private readonly queues: QueueRepository,
    private readonly cancelSignals: CancelSignalRepository,
    private readonly orchestrator: OrchestratorService,
    private readonly rollback: RollbackService,
    private readonly events: EventsRepository,
  ) {}

  /**
   * Cancels a story that has not ended: its queued jobs are removed, running provider calls are
   * aborted (every worker process is told through Redis), nothing more is enqueued; finished
   * steps and their files are kept, and a retry continues from there.
   * @returns the story; `cancelled` tells whether this call cancelled it (false: it had ended).
   * @throws ApiError 404 when the story does not exist (or is not `owner`'s).
   */
  async cancelStory(storyId: string, owner?: string): Promise<{ story: Story; cancelled: boolean }> {
    const story = await this.ownedStory(storyId, owner);
    const cancelled = await this.cancelStoryWork(story);
    if (cancelled && story.batchId) await this.batches.refresh(story.batchId);
    return { story: await this.stories.getOrThrow(storyId), cancelled };
  }

  /**
   * Cancels one story's work without updating its batch. A story made with POST /stories whose
   * generation was never asked for runs nothing, so there is nothing to cancel.
   */
  private async cancelStoryWork(story: Story): Promise<boolean> {
    if (!story.batchId && story.storyStep === 'pending') return false;
    if (!(await this.stories.cancel(story.id, new Date()))) return false;
    await this.removeQueuedJobs(story);
    await this.cancelSignals.publish(story.id);
    this.logger.log(`Story ${story.id} cancelled`);
    this.events.emit({ type: 'story', storyId: story.id, batchId: story.batchId, status: 'cancelled' });
    return true;
  }

  /**
   * Cancels a batch that has not ended, and each of its stories that has not (see
   * {@link cancelStory}). The batch ends `cancelled`.
   * @returns the batch; `cancelled` tells whether this call cancelled it.
   * @throws ApiError 404 when the batch does not exist (or is not `owner`'s); 409 `batch-ended`
   * when it has already ended otherwise than cancelled.
   */
  async cancelBatch(batchId: string, owner?: string): Promise<{ batch: BatchJob; cancelled: boolean }> {
    await this.ownedBatch(batchId, owner);
    const cancelled = await this.batchRows.cancel(batchId, new Date());
    if (!cancelled) {
      // Read again: another request may have cancelled it a moment ago (a double click).
      const current = (await this.batchRows.get(batchId))!;
      if (current.status !== 'cancelled') {
        throw new ApiError(409, 'batch-ended', `Batch ${batchId} has already ended (${current.status}); there is nothing to cancel`);
      }
    }
    // Also when it was cancelled already: a cancel cut short (Redis down) is finished by the next one.
    await this.queues.remove('batch-stories', { batchId });
    for (const story of await this.stories.listByBatch(batchId)) await this.cancelStoryWork(story);
    // One update once every story is cancelled, so the batch's end event tells the final state.
    await this.batches.refresh(batchId);
    if (cancelled) {
      this.logger.log(`Batch ${batchId} cancelled`);
    }
    return { batch: (await this.batchRows.get(batchId))!, cancelled };
  }

  /**
   * Retries a failed or cancelled story from where it stopped: its failed (or cancelled) steps
   * run again, finished steps and chunks are kept. Its batch, if ended, is `processing` again.
   * @returns whether this call restarted it (false when it had not failed or been cancelled).
   * @throws ApiError 404 when the story does not exist (or is not `owner`'s).
   */
  async retryStory(storyId: string, owner?: string): Promise<{ story: Story; retried: boolean }> {
    const story = await this.ownedStory(storyId, owner);
    const retried = await this.stories.reopen(storyId);
    if (retried) {
      await this.rollback.removePartialFiles(storyId);
      if (story.batchId) await this.batchRows.reopen(story.batchId);
      const reopened = await this.stories.getOrThrow(storyId);
      if (reopened.storyStep === 'pending') await this.orchestrator.start(storyId);
      else await this.queues.add('auto-mode', { storyId, after: 'story' });
      this.logger.log(`Story ${storyId} retried (${story.failedStep ? `failed at ${story.failedStep}` : story.status})`);
      if (story.batchId) await this.batches.refresh(story.batchId);
    }
    return { story: await this.stories.getOrThrow(storyId), retried };
  }

  /**
   * Retries every failed or cancelled story of a batch (see {@link retryStory}); the others are
   * not touched.
   * @returns the ids of the stories restarted (empty when there were none).
   * @throws ApiError 404 when the batch does not exist (or is not `owner`'s).
   */
  async retryBatch(batchId: string, owner?: string): Promise<{ batch: BatchJob; retried: string[] }> {
    await this.ownedBatch(batchId, owner);
    const retried: string[] = [];
    for (const story of await this.stories.listByBatch(batchId)) {
      if (story.status !== 'failed' && story.status !== 'cancelled') continue;
      if ((await this.retryStory(story.id)).retried) retried.push(story.id);
    }
    await this.batches.refresh(batchId);
    return { batch: (await this.batchRows.get(batchId))!, retried };
  }

  /**
   * Makes one image or one narration clip again (overwriting its file), then re-runs what is
   * made from it: the video for an image; the merge (and the video) for a clip.
   * @returns the story as it is after the chunk was queued.
   * @throws ApiError 404 when the chunk does not exist (or is not `owner`'s); 409
   * `story-cancelled` for a cancelled story (retry it first), else see {@link checkRegenerable}.
   */
  async regenerateChunk(step: ChunkKind, chunkId: string, owner?: string): Promise<Story> {
    const chunk = await this.stories.chunkById(step, chunkId);
    const story = chunk && (await this.stories.get(chunk.storyId));
    if (!chunk || !story || (owner && story.userId !== owner)) throw notFound(CHUNK_NOUN[step], chunkId);
    if (story.status === 'cancelled') {
      throw new ApiError(409, 'story-cancelled', `Story ${story.id} was cancelled; retry it (POST /stories/${story.id}/retry) before regenerating a chunk`);
    }
    this.checkRegenerable(story, step);
    if (!(await this.stories.reopenChunk(step, chunk))) {
      // Another request got there first: say what the step is doing now.
      this.checkRegenerable(await this.stories.getOrThrow(story.id), step);
      throw new ApiError(409, 'step-running', `The ${step} step of story ${story.id} was just started by another request`);
    }
    const dependents = dependentSteps(step);
    for (const dependent of dependents) await this.stories.transitionStep(story.id, dependent, ['completed', 'failed'], 'pending');
    const clearsFailure = story.failedStep === step || dependents.some((dependent) => dependent === story.failedStep);
    await this.stories.reopenForChunk(story.id, clearsFailure);
    // A cancelled batch stays cancelled: regenerating one of its finished stories is not a retry.
    const batch = story.batchId ? await this.batchRows.get(story.batchId) : undefined;
    if (batch && batch.status !== 'cancelled') await this.batchRows.reopen(batch.id);
    await this.queues.add(chunkStep(step).queue, { storyId: story.id, chunkIndex: chunk.index });
    this.logger.log(`Story ${story.id}: ${step} chunk ${chunk.index + 1} queued again`);
    if (story.batchId) await this.batches.refresh(story.batchId);
    return this.stories.getOrThrow(story.id);
  }

  /**
   * @throws ApiError 409 unless the step has completed and nothing made from it is being made:
   * `step-running` (the step, or the merge or video that uses it, is queued or running),
   * `step-failed`, `step-not-ready` (not requested, or not run yet).
   */
  private checkRegenerable(story: Story, step: ChunkKind): void {
    const busy = [step, ...dependentSteps(step)].find((s) => ['queued', 'running'].includes(story[STEP_COLUMN[s]]));
    if (busy) {
      throw new ApiError(409, 'step-running', `The ${busy} step of story ${story.id} is ${story[STEP_COLUMN[busy]]}; regenerate the chunk once it has ended`);
    }
    const status = story[STEP_COLUMN[step]];
    if (status === 'failed') {
      throw new ApiError(409, 'step-failed', `The ${step} step of story ${story.id} failed; retry the story (POST /stories/${story.id}/retry) to finish it`);
    }
    if (status === 'skipped') {
      throw new ApiError(409, 'step-not-ready', `The ${step} step was not requested for story ${story.id}; there is no chunk to regenerate`);
    }
    if (status !== 'completed') {
      throw new ApiError(409, 'step-not-ready', `The ${step} step of story ${story.id} is ${status}; regenerate a chunk once the step has completed`);
    }
  }

  /** Removes the story's waiting and delayed jobs from every queue (running ones are aborted instead). */
  private async removeQueuedJobs(story: Story): Promise<void> {
    const [images, audio] = await Promise.all([this.stories.chunks('images', story.id), this.stories.chunks('audio', story.id)]);
    const jobs = storyJobs(story.id, { images: images.map((c) => c.index), audio: audio.map((c) => c.index) });
    for (const job of jobs) await this.queues.remove(job.queue, job.data);
  }

  private async ownedStory(storyId: string, owner?: string): Promise<Story> {
    const story = await this.stories.get(storyId);
    if (!story || (owner && story.userId !== owner)) throw notFound('Story', storyId);
    return story;
  }

  private async ownedBatch(batchId: string, owner?: string): Promise<BatchJob> {
    const batch = await this.batchRows.get(batchId);
    if (!batch || (owner && batch.userId !== owner)) throw notFound('Batch', batchId);
    return batch;
  }
}
