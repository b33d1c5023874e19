import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { DATABASE, type DatabaseConnection } from '../db/database.js';
import { claimReconcilePass } from '../db/installation.js';
import { type StepName, STEPS, type Story } from '../db/schema.js';
import { isChunkStep, PIPELINE_STEPS } from '../pipeline/catalog.js';
import type { JobCatalog, QueueName } from '../repositories/job-catalog.js';
import { RUN_WORKERS } from '../pipeline/pipeline.worker.js';
import { BatchRepository } from '../repositories/batch.repository.js';
import { QueueRepository } from '../repositories/queue.repository.js';
import { runKey, StepRunRepository } from '../repositories/step-run.repository.js';
import { STEP_COLUMN, StoryRepository, storyHasEnded } from '../repositories/story.repository.js';
import { BatchService } from './batch.service.js';
import { OrchestratorService } from '../pipeline/orchestrator.service.js';

/** Stories read per page of a pass. */
const PAGE_SIZE = 200;

/** Arbitrary constant key of the advisory lock held during a scheduled pass (one pass at a time across processes). */
export const RECONCILE_LOCK_KEY = 7_316_402_552;

/**
 * Longest gap after any process's pass in which a starting process skips its own start-up pass,
 * ms: processes started together run one start-up pass, a process started later runs its own.
 */
const STARTUP_PASS_WINDOW_MS = 10_000;

/** Share of RECONCILE_INTERVAL_MS after a pass in which no other scheduled pass starts (timers of processes drift apart a little). */
const INTERVAL_SHARE = 0.8;

/** What one reconciler pass found and did. */
export interface ReconcileReport {
  batchesChecked: number;
  storiesChecked: number;
  /** Jobs that were missing from Redis (or had ended there without the database knowing) and were added again. */
  jobsRebuilt: number;
}

/**
 * Rebuilds lost work from the database, which is the source of truth. For every batch and story
 * not yet ended, each piece of work the database says is queued or running must have a waiting,
 * delayed or running job in Redis; one that is missing (Redis restarted empty, keys evicted) or
 * that ended there without the database knowing (its worker died while writing) is added again
 * under its deterministic id. Work still running on a live worker (a step run whose heartbeat is
 * younger than WORKER_HEARTBEAT_TIMEOUT_MS, however long ago it started) is left alone, and is
 * queued again once its heartbeat stops; work recorded as done is never queued again, and steps
 * skip finished chunks anyway, so a pass is safe at any time. A story with nothing queued or
 * running gets the orchestrator's decision again; a batch whose stories have all ended is brought
 * up to date.
 *
 * Scheduled passes run at start-up and every `RECONCILE_INTERVAL_MS` in processes that run
 * workers, one at a time across every process and host (a PostgreSQL advisory lock) and one per
 * interval between them (the last pass's start is recorded in the database; a process whose timer
 * fires soon after another's pass skips its own).
 */
@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Reconciler');
  private timer?: NodeJS.Timeout;
  private pass?: Promise<unknown>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(RUN_WORKERS) private readonly runWorkers: boolean,
    @Inject(DATABASE) private readonly database: DatabaseConnection,
    private readonly batches: BatchRepository,
    private readonly stories: StoryRepository,
    private readonly queues: QueueRepository,
    private readonly stepRuns: StepRunRepository,
    private readonly batchService: BatchService,
    private readonly orchestrator: OrchestratorService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.runWorkers) return;
    const every = this.config.jobs.reconcileIntervalMs;
    this.schedule(every > 0 ? Math.min(every * INTERVAL_SHARE, STARTUP_PASS_WINDOW_MS) : 0);
    if (every > 0) this.timer = setInterval(() => this.schedule(every * INTERVAL_SHARE), every).unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.pass;
  }

  /**
   * Runs a scheduled pass unless this process runs one, another process holds the reconciler's
   * lock, or any process's pass started less than `windowMs` ago. Logs instead of throwing
   * (Redis or PostgreSQL may be down).
   */
  private schedule(windowMs: number): void {
    if (this.pass) return;
    this.pass = this.database
      .withTryLock(RECONCILE_LOCK_KEY, async () => {
        if (!(await claimReconcilePass(this.database.db, windowMs))) return undefined;
        const started = performance.now();
        const report = await this.reconcile();
        this.logger.log(
          `Reconcile pass: ${report.batchesChecked} unfinished batch(es) and ${report.storiesChecked} story(ies) checked, ` +
            `${report.jobsRebuilt} job(s) rebuilt, in ${Math.round(performance.now() - started)} ms`,
        );
        return report;
      })
      .catch((error: Error) => this.logger.warn(`Pass failed, will try again: ${error.message}`))
      .finally(() => (this.pass = undefined));
  }

  /**
   * One pass over the unfinished work, now (whatever other processes do; scheduled passes go
   * through the lock and the interval).
   * @throws when Redis or PostgreSQL cannot be reached.
   */
  async reconcile(): Promise<ReconcileReport> {
    const report: ReconcileReport = { batchesChecked: 0, storiesChecked: 0, jobsRebuilt: 0 };
    for (const batch of await this.batches.listUnfinished()) {
      report.batchesChecked += 1;
      if (batch.status === 'pending') {
        if (await this.rebuild('batch-stories', { batchId: batch.id }, async () => (await this.batches.get(batch.id))?.status === 'pending')) {
          report.jobsRebuilt += 1;
        }
      } else if ((await this.batchService.snapshot(batch.id))?.summary.finished) {
        // Every story has ended but the batch was not updated (its last update was lost).
        await this.batchService.refresh(batch.id);
      }
    }
    let after: Story | undefined;
    for (;;) {
      const page = await this.stories.listUnfinished(PAGE_SIZE, after);
      for (const story of page) {
        report.storiesChecked += 1;
        report.jobsRebuilt += await this.reconcileStory(story.id);
      }
      if (page.length < PAGE_SIZE) break;
      after = page[page.length - 1];
    }
    if (report.jobsRebuilt) {
      this.logger.warn(`Rebuilt ${report.jobsRebuilt} missing job(s) from the database (${report.storiesChecked} unfinished stories checked)`);
    }
    return report;
  }

  /** Adds the jobs missing for one story; returns how many were added. */
  private async reconcileStory(storyId: string): Promise<number> {
    const story = await this.stories.get(storyId);
    if (!story || storyHasEnded(story)) return 0;
    const busy = (step: StepName) => ['queued', 'running'].includes(story[STEP_COLUMN[step]]);
    const stillBusy = async (step: StepName) => {
      const fresh = await this.stories.get(storyId);
      return !!fresh && !storyHasEnded(fresh) && ['queued', 'running'].includes(fresh[STEP_COLUMN[step]]);
    };
    const live = await this.stepRuns.runningAlive(storyId, this.config.jobs.heartbeatTimeoutMs);
    let added = 0;
    const count = (wasAdded: boolean) => (added += wasAdded ? 1 : 0);

    for (const step of PIPELINE_STEPS) {
      if (!busy(step.name)) continue;
      if (!isChunkStep(step)) {
        if (!live.has(runKey(step.name))) count(await this.rebuild(step.queue, { storyId }, () => stillBusy(step.name)));
        continue;
      }
      for (const chunk of await this.stories.chunks(step.chunks, storyId)) {
        if (chunk.status === 'completed' || live.has(runKey(step.name, chunk.index))) continue;
        const chunkPending = async () => (await this.stories.chunk(step.chunks, storyId, chunk.index))?.status !== 'completed' && (await stillBusy(step.name));
        count(await this.rebuild(step.queue, { storyId, chunkIndex: chunk.index }, chunkPending));
      }
      // Every chunk is done but the step was never closed (its worker died in between): close it here.
      // While a run of the step is live, its worker closes the step itself once it has recorded its chunk.
      const stepLive = [...live].some((key) => key.startsWith(`${step.name}:`));
      if (!stepLive && (await this.stories.completeStepIfAllChunksDone(storyId, step.chunks))) count(await this.queues.add('auto-mode', { storyId, after: step.name }));
    }
    if (!STEPS.some(busy) && story.status === 'processing') {
      // Nothing queued or running: the decision of what comes next was lost. Deciding again is safe.
      await this.orchestrator.advance(storyId);
    }
    return added;
  }

  /**
   * Adds a job unless one is waiting, delayed or running; a job that ended in Redis is replaced
   * only when `stillOutstanding` (read just now) says the database still waits for its work.
   */
  private async rebuild<Q extends QueueName>(queue: Q, data: JobCatalog[Q], stillOutstanding: () => Promise<boolean>): Promise<boolean> {
    const job = await this.queues.find(queue, data);
    if (job && job.state !== 'completed' && job.state !== 'failed') return false;
    if (job && !(await stillOutstanding())) return false;
    return this.queues.add(queue, data);
  }
}
