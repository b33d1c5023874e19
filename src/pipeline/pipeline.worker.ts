import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { StepName } from '../db/schema.js';
import { ProviderError } from '../providers/provider-error.js';
import { CancelSignalRepository } from '../repositories/cancel-signal.repository.js';
import { QueueRepository, SHUTDOWN_REASON } from '../repositories/queue.repository.js';
import { removeOwnScratch, removeStaleScratch } from '../shared/scratch.js';
import { StepRunRepository } from '../repositories/step-run.repository.js';
import { StoryRepository } from '../repositories/story.repository.js';
import { BatchService } from '../services/batch.service.js';
import { OrchestratorService } from '../services/orchestrator.service.js';
import { type JobCatalog, type QueueName, STEP_OF_QUEUE } from './jobs.js';
import { describeError, isPermanent } from './step-failure.js';
import { AudioStep } from './steps/audio.step.js';
import { ImagesStep } from './steps/images.step.js';
import { MergeStep } from './steps/merge.step.js';
import { StoryStep } from './steps/story.step.js';
import { VideoStep } from './steps/video.step.js';
import { WorkerHeartbeatService } from './worker-heartbeat.service.js';

/** Injection token: true when this process runs queue workers (`serve`, `worker`, `run`). */
export const RUN_WORKERS = Symbol('RUN_WORKERS');

type StepJob = Job<{ storyId: string; chunkIndex?: number }>;

/**
 * How many times a job may go back to the queue without using an attempt (Retry-After waits; also
 * releases at shutdown and stalled recoveries, which BullMQ counts alike) before a rate limit
 * counts as an ordinary failed attempt, so a provider that never lets up cannot hold a job forever.
 */
export const MAX_RATE_LIMIT_WAITS = 20;

/** Abort reason of a step job whose story was cancelled (a shutdown aborts with SHUTDOWN_REASON). */
export const CANCEL_REASON = 'cancel';

/**
 * Connects each queue of the job catalog to its step. Records every execution in step_runs,
 * turns permanent errors into BullMQ's UnrecoverableError (no retry), and on a step's final
 * failure tells the orchestrator. After a step finishes, the `auto-mode` queue decides what next.
 *
 * Besides failing, a step job can end three more ways: a provider's 429/503 with Retry-After
 * puts it back in the queue for at least that long without using an attempt; a cancel (any
 * process publishes it, see CancelSignalRepository) aborts its provider call and ends it quietly;
 * a shutdown past its grace period aborts it and releases it to the queue for another worker.
 */
@Injectable()
export class PipelineWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Pipeline');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(RUN_WORKERS) private readonly runWorkers: boolean,
    private readonly queues: QueueRepository,
    private readonly cancelSignals: CancelSignalRepository,
    private readonly stepRuns: StepRunRepository,
    private readonly stories: StoryRepository,
    private readonly batches: BatchService,
    private readonly orchestrator: OrchestratorService,
    private readonly storyStep: StoryStep,
    private readonly imagesStep: ImagesStep,
    private readonly audioStep: AudioStep,
    private readonly mergeStep: MergeStep,
    private readonly videoStep: VideoStep,
    private readonly heartbeat: WorkerHeartbeatService,
  ) {}

  /** Step jobs running in this process: job id → story id (to abort them on a cancel). */
  private readonly running = new Map<string, string>();

  async onApplicationBootstrap(): Promise<void> {
    if (!this.runWorkers) return;
    const stale = await removeStaleScratch();
    if (stale) this.logger.log(`Removed the temporary files of ${stale} worker process(es) that ended without cleaning up`);
    await this.cancelSignals.subscribe((storyId) => this.abortStory(storyId));
    await this.heartbeat.start();
    const { concurrency } = this.config.jobs;
    this.queues.startWorkers(
      {
        'batch-stories': (job) => this.batches.start(job.data.batchId, (storyId) => this.orchestrator.start(storyId)),
        'story-generation': (job, token, signal) =>
          this.step(job, token, signal, 'story', async () => {
            await this.storyStep.run(job.data.storyId, signal);
            return true;
          }),
        'image-generation': (job, token, signal) =>
          this.step(job, token, signal, 'images', () => this.imagesStep.runChunk(job.data.storyId, job.data.chunkIndex, signal)),
        'audio-generation': (job, token, signal) =>
          this.step(job, token, signal, 'audio', () => this.audioStep.runChunk(job.data.storyId, job.data.chunkIndex, signal)),
        'audio-merge': (job, token, signal) =>
          this.step(job, token, signal, 'merge', async () => {
            await this.mergeStep.run(job.data.storyId, signal);
            return true;
          }),
        'video-render': (job, token, signal) =>
          this.step(job, token, signal, 'video', async () => {
            await this.videoStep.run(job.data.storyId, signal);
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
      (queue, data, reason) => this.stalledOut(queue, data, reason),
    );
  }

  /**
   * A step job whose worker died `JOB_MAX_STALLED` times in a row (killed, out of memory) was
   * failed by BullMQ without running its handler: the step fails for good here, with the reason.
   */
  private async stalledOut<Q extends QueueName>(queue: Q, data: JobCatalog[Q], reason: string): Promise<void> {
    const step = STEP_OF_QUEUE[queue];
    if (!step || !('storyId' in data)) return;
    const { storyId } = data;
    const chunkIndex = 'chunkIndex' in data ? data.chunkIndex : undefined;
    const where = chunkIndex === undefined ? '' : ` (chunk ${chunkIndex + 1})`;
    this.logger.warn(`story ${storyId} ${step}${where}: ${reason}`);
    await this.orchestrator.failStep(storyId, step, `The worker running this step stopped answering too many times (${reason}); check its memory and logs${where}`);
  }

  /** Workers have closed (queues close in onModuleDestroy, before this): their temporary files go. */
  async onApplicationShutdown(): Promise<void> {
    if (this.runWorkers) await removeOwnScratch();
  }

  /** Aborts this process's running step jobs of a cancelled story. */
  private abortStory(storyId: string): void {
    const jobIds = [...this.running].filter(([, story]) => story === storyId).map(([jobId]) => jobId);
    if (jobIds.length) {
      const signalled = this.queues.cancelRunning(jobIds, CANCEL_REASON);
      this.logger.log(`Story ${storyId} cancelled: aborted ${signalled} running job(s)`);
    }
  }

  /**
   * Runs one step job. `work` returns true when the step as a whole is finished, which hands the
   * story to the orchestrator through the `auto-mode` queue.
   * @throws DelayedError when the job went back to the queue (Retry-After, shutdown), BullMQ's
   * UnrecoverableError for a permanent failure, else the step's error (BullMQ retries it).
   */
  private async step(
    job: StepJob,
    token: string | undefined,
    signal: AbortSignal | undefined,
    step: StepName,
    work: () => Promise<boolean>,
  ): Promise<void> {
    const { storyId, chunkIndex } = job.data;
    const attempt = job.attemptsMade + 1;
    const started = performance.now();
    const runId = await this.stepRuns.start({ storyId, step, chunkIndex, attempt, jobId: job.id, workerId: this.heartbeat.workerId });
    // Its heartbeat tells the reconciler that this run is alive, however long it takes.
    const stopHeartbeat = this.heartbeat.track(runId);
    // The story's retry count when this run began: a failure after a later retry is not the retried story's.
    const generation = (await this.stories.get(storyId))?.generation;
    const what = `story ${storyId} ${step}${chunkIndex === undefined ? '' : ` chunk ${chunkIndex + 1}`} (attempt ${attempt})`;
    if (job.id) this.running.set(job.id, storyId);
    try {
      const finished = await work();
      await this.stepRuns.finish(runId, started);
      this.logger.log(`${what} done in ${Math.round(performance.now() - started)} ms${finished ? '; step finished' : ''}`);
      if (finished) await this.queues.add('auto-mode', { storyId, after: step });
    } catch (error) {
      if (signal?.aborted && signal.reason === SHUTDOWN_REASON) {
        await this.stepRuns.finish(runId, started, 'Released: the worker shut down before the step finished');
        this.logger.warn(`${what} released to the queue: the worker is shutting down`);
        await this.delay(job, token, 0);
      }
      if (signal?.aborted && signal.reason === CANCEL_REASON) {
        await this.stepRuns.finish(runId, started, 'Cancelled');
        this.logger.log(`${what} cancelled`);
        return;
      }
      const message = describeError(error);
      await this.stepRuns.finish(runId, started, message);
      const waitMs = error instanceof ProviderError && error.kind === 'transient' ? error.retryAfterMs : undefined;
      // attemptsStarted counts every start; attemptsMade only those that used an attempt.
      if (waitMs !== undefined && job.attemptsStarted - job.attemptsMade <= MAX_RATE_LIMIT_WAITS) {
        this.logger.warn(`${what}: ${message}; trying again in ${waitMs} ms without using an attempt`);
        await this.delay(job, token, waitMs);
      }
      const permanent = isPermanent(error);
      this.logger.warn(`${what} failed${permanent ? ' for good' : ''}: ${message}`);
      if (permanent || attempt >= (job.opts.attempts ?? 1)) {
        if (generation !== undefined && (await this.stories.get(storyId))?.generation !== generation) {
          // The story was retried while this ran: the retry wants this work done, so it goes again.
          this.logger.warn(`${what}: the story was retried meanwhile; running it again`);
          await this.delay(job, token, 0);
        }
        const where = chunkIndex === undefined ? '' : ` (chunk ${chunkIndex + 1})`;
        await this.orchestrator.failStep(storyId, step, `${message}${where}`, generation);
      }
      throw permanent ? new UnrecoverableError(message) : error;
    } finally {
      stopHeartbeat();
      if (job.id) this.running.delete(job.id);
    }
  }

  /** Puts the job back in the queue to run again in `ms` (not counted as an attempt). */
  private async delay(job: StepJob, token: string | undefined, ms: number): Promise<never> {
    await job.moveToDelayed(Date.now() + ms, token);
    throw new DelayedError();
  }
}
