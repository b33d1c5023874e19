import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { type Job, UnrecoverableError } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { StepName } from '../db/schema.js';
import { QueueRepository } from '../repositories/queue.repository.js';
import { StepRunRepository } from '../repositories/step-run.repository.js';
import { BatchService } from '../services/batch.service.js';
import { OrchestratorService } from '../services/orchestrator.service.js';
import type { JobCatalog } from './jobs.js';
import { describeError, isPermanent } from './step-failure.js';
import { AudioStep } from './steps/audio.step.js';
import { ImagesStep } from './steps/images.step.js';
import { MergeStep } from './steps/merge.step.js';
import { StoryStep } from './steps/story.step.js';
import { VideoStep } from './steps/video.step.js';

/** Injection token: true when this process runs queue workers (`serve`, `worker`, `run`). */
export const RUN_WORKERS = Symbol('RUN_WORKERS');

type StepJob = Job<{ storyId: string; chunkIndex?: number }>;

/**
 * Connects each queue of the job catalog to its step. Records every execution in step_runs,
 * turns permanent errors into BullMQ's UnrecoverableError (no retry), and on a step's final
 * failure tells the orchestrator. After a step finishes, the `auto-mode` queue decides what next.
 */
@Injectable()
export class PipelineWorker implements OnApplicationBootstrap {
  private readonly logger = new Logger('Pipeline');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(RUN_WORKERS) private readonly runWorkers: boolean,
    private readonly queues: QueueRepository,
    private readonly stepRuns: StepRunRepository,
    private readonly batches: BatchService,
    private readonly orchestrator: OrchestratorService,
    private readonly storyStep: StoryStep,
    private readonly imagesStep: ImagesStep,
    private readonly audioStep: AudioStep,
    private readonly mergeStep: MergeStep,
    private readonly videoStep: VideoStep,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.runWorkers) return;
    const { concurrency } = this.config.jobs;
    this.queues.startWorkers(
      {
        'batch-stories': (job) => this.batches.start(job.data.batchId, (storyId) => this.orchestrator.start(storyId)),
        'story-generation': (job) =>
          this.step(job, 'story', async () => {
            await this.storyStep.run(job.data.storyId);
            return true;
          }),
        'image-generation': (job) =>
          this.step(job, 'images', () => this.imagesStep.runChunk(job.data.storyId, job.data.chunkIndex)),
        'audio-generation': (job) =>
          this.step(job, 'audio', () => this.audioStep.runChunk(job.data.storyId, job.data.chunkIndex)),
        'audio-merge': (job) =>
          this.step(job, 'merge', async () => {
            await this.mergeStep.run(job.data.storyId);
            return true;
          }),
        'video-render': (job) =>
          this.step(job, 'video', async () => {
            await this.videoStep.run(job.data.storyId);
            return true;
          }),
        'auto-mode': (job: Job<JobCatalog['auto-mode']>) => this.orchestrator.advance(job.data.storyId),
      },
      {
        'batch-stories': 1,
        'story-generation': concurrency.story,
        'image-generation': concurrency.images,
        'audio-generation': concurrency.audio,
        'audio-merge': concurrency.merge,
        'video-render': concurrency.video,
        'auto-mode': 4,
      },
    );
  }

  /**
   * Runs one step job. `work` returns true when the step as a whole is finished, which hands the
   * story to the orchestrator through the `auto-mode` queue.
   */
  private async step(job: StepJob, step: StepName, work: () => Promise<boolean>): Promise<void> {
    const { storyId, chunkIndex } = job.data;
    const attempt = job.attemptsMade + 1;
    const started = performance.now();
    const runId = await this.stepRuns.start({ storyId, step, chunkIndex, attempt, jobId: job.id });
    const what = `story ${storyId} ${step}${chunkIndex === undefined ? '' : ` chunk ${chunkIndex + 1}`} (attempt ${attempt})`;
    try {
      const finished = await work();
      await this.stepRuns.finish(runId, started);
      this.logger.log(`${what} done in ${Math.round(performance.now() - started)} ms${finished ? '; step finished' : ''}`);
      if (finished) await this.queues.add('auto-mode', { storyId, after: step });
    } catch (error) {
      const message = describeError(error);
      await this.stepRuns.finish(runId, started, message);
      const permanent = isPermanent(error);
      this.logger.warn(`${what} failed${permanent ? ' for good' : ''}: ${message}`);
      if (permanent || attempt >= (job.opts.attempts ?? 1)) {
        const where = chunkIndex === undefined ? '' : ` (chunk ${chunkIndex + 1})`;
        await this.orchestrator.failStep(storyId, step, `${message}${where}`);
      }
      throw permanent ? new UnrecoverableError(message) : error;
    }
  }
}
