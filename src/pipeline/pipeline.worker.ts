import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { type Job, UnrecoverableError } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { CancelSignalRepository } from '../repositories/cancel-signal.repository.js';
import { InvalidJobPayloadError, type JobCatalog, parseJobPayload, type QueueName } from '../repositories/job-catalog.js';
import { QueueRepository } from '../repositories/queue.repository.js';
import { removeOwnScratch, removeStaleScratch } from '../shared/scratch.js';
import { BATCH_TRACKER, type BatchTracker } from './batch-tracker.js';
import { OrchestratorService } from './orchestrator.service.js';
import { isChunkStep, PIPELINE_STEPS, type PipelineStep, stepOfQueue } from './catalog.js';
import { StepRunnerService } from './step-runner.service.js';
import { ChunkStepRunner } from './steps/chunk-step.runner.js';
import { WorkerHeartbeatService } from './worker-heartbeat.service.js';

/** Injection token: true when this process runs queue workers (`serve`, `worker`, `run`). */
export const RUN_WORKERS = Symbol('RUN_WORKERS');

/** Jobs of `auto-mode` each process decides at once. */
const AUTO_MODE_CONCURRENCY = 4;

/**
 * Connects each queue of the job catalog to its work: `batch-stories` starts a batch's stories,
 * `auto-mode` asks the orchestrator what comes next, and every step's queue runs that step (as
 * PIPELINE_STEPS describes it) through the StepRunnerService, which applies the failure policy.
 * A job whose payload does not match its queue's schema fails at once with the reason, without a
 * retry; the worker goes on.
 */
@Injectable()
export class PipelineWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Pipeline');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(RUN_WORKERS) private readonly runWorkers: boolean,
    private readonly queues: QueueRepository,
    private readonly cancelSignals: CancelSignalRepository,
    @Inject(BATCH_TRACKER) private readonly batches: BatchTracker,
    private readonly orchestrator: OrchestratorService,
    private readonly runner: StepRunnerService,
    private readonly chunks: ChunkStepRunner,
    private readonly heartbeat: WorkerHeartbeatService,
    private readonly moduleRef: ModuleRef,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.runWorkers) return;
    const stale = await removeStaleScratch();
    if (stale) this.logger.log(`Removed the temporary files of ${stale} worker process(es) that ended without cleaning up`);
    await this.cancelSignals.subscribe((storyId) => this.runner.abortStory(storyId));
    await this.heartbeat.start();
    const concurrency: Partial<Record<QueueName, number>> = { 'batch-stories': 1, 'auto-mode': AUTO_MODE_CONCURRENCY };
    // Workers of each step per process: `*_CONCURRENCY`, keyed by the step's name.
    for (const step of PIPELINE_STEPS) concurrency[step.queue] = this.config.jobs.concurrency[step.name];
    this.queues.startWorkers(
      (queue, job, token, signal) => this.handle(queue, job, token, signal),
      concurrency,
      (queue, data, reason) => this.stalledOut(queue, data, reason),
    );
  }

  /** Workers have closed (queues close in onModuleDestroy, before this): their temporary files go. */
  async onApplicationShutdown(): Promise<void> {
    if (this.runWorkers) await removeOwnScratch();
  }

  /**
   * Runs one job of `queue`.
   * @throws UnrecoverableError for a malformed payload; else what the work throws.
   */
  private async handle(queue: QueueName, job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<void> {
    try {
      if (queue === 'batch-stories') {
        const { batchId } = parseJobPayload(queue, job.id, job.data);
        return await this.batches.start(batchId, (storyId) => this.orchestrator.start(storyId));
      }
      if (queue === 'auto-mode') {
        const { storyId } = parseJobPayload(queue, job.id, job.data);
        return await this.orchestrator.advance(storyId);
      }
      const step = stepOfQueue(queue);
      if (!step) throw new InvalidJobPayloadError(`Queue ${queue} runs no step`);
      return await this.runStep(step, job, token, signal);
    } catch (error) {
      if (!(error instanceof InvalidJobPayloadError)) throw error;
      this.logger.warn(error.message);
      throw new UnrecoverableError(error.message);
    }
  }

  /** Runs one job of a step through the step runner. */
  private async runStep(step: PipelineStep, job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<void> {
    if (isChunkStep(step)) {
      const data = parseJobPayload(step.queue, job.id, job.data);
      return this.runner.run(job, token, signal, step.name, () => this.chunks.run(step.chunks, data.storyId, data.chunkIndex, signal));
    }
    const data = parseJobPayload(step.queue, job.id, job.data);
    job.data = data;
    const run = this.moduleRef.get(step.run, { strict: false });
    return this.runner.run(job, token, signal, step.name, async () => {
      await run.run(data.storyId, signal);
      return true;
    });
  }

  /**
   * A step job whose worker died `JOB_MAX_STALLED` times in a row (killed, out of memory) was
   * failed by BullMQ without running its handler: the step fails for good here, with the reason.
   */
  private async stalledOut<Q extends QueueName>(queue: Q, data: JobCatalog[Q], reason: string): Promise<void> {
    const step = stepOfQueue(queue);
    if (!step || !('storyId' in data)) return;
    const { storyId } = data;
    const chunkIndex = 'chunkIndex' in data ? data.chunkIndex : undefined;
    const where = chunkIndex === undefined ? '' : ` (chunk ${chunkIndex + 1})`;
    this.logger.warn(`story ${storyId} ${step.name}${where}: ${reason}`);
    await this.orchestrator.failStep(storyId, step.name, `The worker running this step stopped answering too many times (${reason}); check its memory and logs${where}`);
  }
}
