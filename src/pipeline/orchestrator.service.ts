import { Inject, Injectable, Logger } from '@nestjs/common';
import type { StepName, Story } from '../db/schema.js';
import { EventsRepository } from '../repositories/events.repository.js';
import { QueueRepository } from '../repositories/queue.repository.js';
import { STEP_COLUMN, StoryRepository, storyHasEnded } from '../repositories/story.repository.js';
import { isChunkStep, PIPELINE_STEPS, type PipelineStep } from './catalog.js';
import { BATCH_TRACKER, type BatchTracker } from './batch-tracker.js';
import { RollbackService } from './rollback.service.js';

/**
 * The auto-mode orchestrator: the one place that decides what comes next for a story, from its
 * state in the database and the steps' `needs` in PIPELINE_STEPS. Steps never call each other;
 * they finish, and this starts what follows (story → images and audio side by side → merge after
 * all audio → video after merge and all images, when asked) → story done → batch updated.
 * Every decision claims its transition atomically, so concurrent calls enqueue each job once.
 */
@Injectable()
export class OrchestratorService {
  private readonly logger = new Logger('AutoMode');

  constructor(
    private readonly stories: StoryRepository,
    private readonly queues: QueueRepository,
    @Inject(BATCH_TRACKER) private readonly batches: BatchTracker,
    private readonly events: EventsRepository,
    private readonly rollback: RollbackService,
  ) {}

  /** Starts the first step of a story that has not started. */
  async start(storyId: string): Promise<void> {
    const story = await this.stories.get(storyId);
    if (story) await this.startStep(story, PIPELINE_STEPS[0]);
  }

  /**
   * Decides and enqueues what comes next for a story: every `pending` step whose `needs`
   * (PIPELINE_STEPS) are all completed starts; the story finishes when nothing is left.
   */
  async advance(storyId: string): Promise<void> {
    let story = await this.stories.get(storyId);
    if (!story || storyHasEnded(story)) return;
    // A story not started yet (or retried and not yet picked up) is started by its batch.
    if (story.status === 'processing') {
      for (const step of PIPELINE_STEPS) {
        const ready = story[STEP_COLUMN[step.name]] === 'pending' && step.needs.every((need) => story![STEP_COLUMN[need]] === 'completed');
        if (!ready) continue;
        await this.startStep(story, step);
        // Starting a step can complete it at once (a chunked step with nothing left to make).
        story = await this.stories.getOrThrow(storyId);
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

  /** Claims a pending step (pending → queued) and enqueues its job, or one job per unfinished chunk. */
  private async startStep(story: Story, step: PipelineStep): Promise<void> {
    if (!(await this.stories.transitionStep(story.id, step.name, ['pending'], 'queued'))) return;
    if (!isChunkStep(step)) {
      await this.queues.add(step.queue, { storyId: story.id });
      return;
    }
    for (const chunk of await this.stories.chunks(step.chunks, story.id)) {
      if (chunk.status !== 'completed') await this.queues.add(step.queue, { storyId: story.id, chunkIndex: chunk.index });
    }
    // A story with no chunks (or all already done) completes the step here.
    if (await this.stories.completeStepIfAllChunksDone(story.id, step.chunks)) {
      await this.queues.add('auto-mode', { storyId: story.id, after: step.name });
    }
  }

  /**
   * Ends the story when nothing is left to do: completed when every step is, failed when one
   * failed. A failed story's failed steps are rolled back once nothing runs for it any more.
   */
  private async finishIfDone(storyId: string): Promise<void> {
    if (await this.stories.settleFailed(storyId, new Date())) {
      const story = await this.stories.getOrThrow(storyId);
      for (const { name: step } of PIPELINE_STEPS.filter((s) => story[STEP_COLUMN[s.name]] === 'failed')) {
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
