import { Injectable, Logger } from '@nestjs/common';
import { DelayedError, UnrecoverableError } from 'bullmq';
import type { StepName } from '../db/schema.js';
import { ProviderError } from '../providers/provider-error.js';
import { QueueRepository, SHUTDOWN_REASON } from '../repositories/queue.repository.js';
import { StepRunRepository } from '../repositories/step-run.repository.js';
import { StoryRepository } from '../repositories/story.repository.js';
import { OrchestratorService } from './orchestrator.service.js';
import { describeError, isPermanent } from './step-failure.js';
import { WorkerHeartbeatService } from './worker-heartbeat.service.js';

/**
 * How many times a job may go back to the queue without using an attempt (Retry-After waits; also
 * releases at shutdown and stalled recoveries, which BullMQ counts alike) before a rate limit
 * counts as an ordinary failed attempt, so a provider that never lets up cannot hold a job forever.
 */
export const MAX_RATE_LIMIT_WAITS = 20;

/** Abort reason of a step job whose story was cancelled (a shutdown aborts with SHUTDOWN_REASON). */
export const CANCEL_REASON = 'cancel';

/** The part of a BullMQ job the step runner uses (a BullMQ `Job` is one). */
export interface StepJob {
  id?: string;
  data: { storyId: string; chunkIndex?: number };
  /** Starts that used an attempt, and every start (BullMQ's counters). */
  attemptsMade: number;
  attemptsStarted: number;
  opts: { attempts?: number };
  /** Puts the job back in its queue until `timestamp` (ms since the epoch). */
  moveToDelayed(timestamp: number, token?: string): Promise<void>;
}

/**
 * Runs one step job and applies the failure policy, the same for every step:
 * - success: the run is recorded; when the step as a whole finished, the story goes to the
 *   orchestrator through the `auto-mode` queue;
 * - a cancel (abort reason {@link CANCEL_REASON}): the run ends quietly;
 * - a shutdown (abort reason SHUTDOWN_REASON): the job is released to the queue at once, without
 *   using an attempt, for another worker;
 * - a provider's 429/503 with Retry-After: back to the queue for at least that long without using
 *   an attempt (at most {@link MAX_RATE_LIMIT_WAITS} times);
 * - a permanent error (see isPermanent): no retry, the step fails (BullMQ's UnrecoverableError);
 * - any other error: BullMQ retries it with backoff; after the last attempt the step fails.
 * A story retried while the run worked gets the job again instead of a failure.
 * Every run is recorded in step_runs and keeps a heartbeat while it works.
 */
@Injectable()
export class StepRunnerService {
  private readonly logger = new Logger('Pipeline');
  /** Step jobs running in this process: job id → story id (to abort them on a cancel). */
  private readonly running = new Map<string, string>();

  constructor(
    private readonly queues: QueueRepository,
    private readonly stepRuns: StepRunRepository,
    private readonly stories: StoryRepository,
    private readonly orchestrator: OrchestratorService,
    private readonly heartbeat: WorkerHeartbeatService,
  ) {}

  /**
   * Runs `work` for a job of `step`. `work` returns true when the step as a whole is finished.
   * @throws DelayedError when the job went back to the queue (Retry-After, shutdown), BullMQ's
   * UnrecoverableError for a permanent failure, else the step's error (BullMQ retries it).
   */
  async run(job: StepJob, token: string | undefined, signal: AbortSignal | undefined, step: StepName, work: () => Promise<boolean>): Promise<void> {
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

  /** Aborts this process's running step jobs of a cancelled story. */
  abortStory(storyId: string): void {
    const jobIds = [...this.running].filter(([, story]) => story === storyId).map(([jobId]) => jobId);
    if (jobIds.length) {
      const signalled = this.queues.cancelRunning(jobIds, CANCEL_REASON);
      this.logger.log(`Story ${storyId} cancelled: aborted ${signalled} running job(s)`);
    }
  }

  /** Puts the job back in the queue to run again in `ms` (not counted as an attempt). */
  private async delay(job: StepJob, token: string | undefined, ms: number): Promise<never> {
    await job.moveToDelayed(Date.now() + ms, token);
    throw new DelayedError();
  }
}
