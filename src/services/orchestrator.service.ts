import { Injectable, Logger } from '@nestjs/common';
import type { StepName, Story } from '../db/schema.js';
import { EventsRepository } from '../repositories/events.repository.js';
import { QueueRepository } from '../repositories/queue.repository.js';
import { STEP_COLUMN, StoryRepository, storyHasEnded } from '../repositories/story.repository.js';
import { STEPS } from '../db/schema.js';
import { BatchService } from './batch.service.js';
import { RollbackService } from './rollback.service.js';

/**
 * The auto-mode orchestrator: the one place that decides what comes next for a story, from its
 * state in the database. Steps never call each other; they finish, and this starts what follows:
 * story → images and audio side by side → merge (after all audio) → video (after merge and all
 * images, when asked) → story done → batch updated.
 * Every decision claims its transition atomically, so concurrent calls enqueue each job once.
 */
@Injectable()
export class OrchestratorService {
  private readonly logger = new Logger('AutoMode');

  constructor(
    private readonly stories: StoryRepository,
    private readonly queues: QueueRepository,
    private readonly batches: BatchService,
    private readonly events: EventsRepository,
    private readonly rollback: RollbackService,
  ) {}

  /** Starts the story step of a story that has not started. */
  async start(storyId: string): Promise<void> {
    if (await this.stories.transitionStep(storyId, 'story', ['pending'], 'queued')) {
      await this.queues.add('story-generation', { storyId });
    }
  }

  /** Decides and enqueues what comes next for a story; finishes it when nothing is left. */
  async advance(storyId: string): Promise<void> {
    const story = await this.stories.get(storyId);
    if (!story || storyHasEnded(story)) return;
    if (story.storyStep !== 'completed') {
      // A story whose first step failed for good only has to be ended; a retried one whose
      // story step is pending again starts it.
      if (story.failedStep) await this.finishIfDone(storyId);
      else if (story.storyStep === 'pending' && story.status === 'processing') await this.start(storyId);
      return;
    }

    if (story.imagesStep === 'pending') await this.startChunkedStep(story, 'images');
    if (story.audioStep === 'pending') await this.startChunkedStep(story, 'audio');
    const fresh = await this.stories.getOrThrow(storyId);
    if (fresh.audioStep === 'completed' && fresh.mergeStep === 'pending') {
      if (await this.stories.transitionStep(storyId, 'merge', ['pending'], 'queued')) {
        await this.queues.add('audio-merge', { storyId });
      }
    }
    // The video needs the merged narration and every image.
    if (fresh.mergeStep === 'completed' && fresh.imagesStep === 'completed' && fresh.videoStep === 'pending') {
      if (await this.stories.transitionStep(storyId, 'video', ['pending'], 'queued')) {
        await this.queues.add('video-render', { storyId });
      }
    }
    await this.finishIfDone(storyId);
  }

  /**
   * Records that a step failed for good. Steps that need it never start; steps already working
   * side by side finish; then the story fails (see {@link finishIfDone}) and its batch is updated.
   * `generation` (the story's when the job began) ignores a failure of work from before a retry.
   */
  async failStep(storyId: string, step: StepName, error: string, generation?: number): Promise<void> {
    const story = await this.stories.get(storyId);
    if (!story) return;
    if (await this.stories.failStep(storyId, step, error, generation)) {
      this.logger.warn(`Story ${storyId} failed at step ${step}: ${error}`);
      this.events.emit({ type: 'step', storyId, batchId: story.batchId, step, state: 'failed', error });
    }
    await this.finishIfDone(storyId);
  }

  private async startChunkedStep(story: Story, step: 'images' | 'audio'): Promise<void> {
    if (!(await this.stories.transitionStep(story.id, step, ['pending'], 'queued'))) return;
    const chunks = step === 'images' ? await this.stories.imageChunks(story.id) : await this.stories.audioChunks(story.id);
    const queue = step === 'images' ? 'image-generation' : 'audio-generation';
    for (const chunk of chunks) {
      if (chunk.status !== 'completed') await this.queues.add(queue, { storyId: story.id, chunkIndex: chunk.index });
    }
    // A story with no chunks (or all already done) completes the step here.
    if (await this.stories.completeStepIfAllChunksDone(story.id, step)) {
      await this.queues.add('auto-mode', { storyId: story.id, after: step });
    }
  }

  /**
   * Ends the story when nothing is left to do: completed when every step is, failed when one
   * failed. A failed story's failed steps are rolled back once nothing runs for it any more.
   */
  private async finishIfDone(storyId: string): Promise<void> {
    if (await this.stories.settleFailed(storyId, new Date())) {
      const story = await this.stories.getOrThrow(storyId);
      for (const step of STEPS.filter((s) => story[STEP_COLUMN[s]] === 'failed')) {
        // A rollback that fails (a file system error) must not keep the batch from being updated.
        await this.rollback.rollbackStep(storyId, step).catch((error: Error) => this.logger.warn(`Story ${storyId}: rollback of ${step} failed: ${error.message}`));
      }
      this.events.emit({ type: 'story', storyId, batchId: story.batchId, status: 'failed', error: story.error ?? undefined });
      if (story.batchId) await this.batches.refresh(story.batchId);
      return;
    }
    if (!(await this.stories.completeIfAllStepsDone(storyId, new Date()))) {
      const story = await this.stories.get(storyId);
      if (story?.batchId) await this.batches.refresh(story.batchId);
      return;
    }
    const story = await this.stories.getOrThrow(storyId);
    await this.rollback.removePartialFiles(storyId);
    if (story.startedAt) {
      await this.stories.mergeMetadata(storyId, { processingTime: Date.now() - story.startedAt.getTime() });
    }
    this.events.emit({ type: 'story', storyId, batchId: story.batchId, status: 'completed' });
    if (story.batchId) await this.batches.refresh(story.batchId);
  }
}
