import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { DelayedError, type Job } from 'bullmq';
import { count, eq } from 'drizzle-orm';
import { DATABASE, type DatabaseConnection, withQueryRetryBudget } from '../db/database.js';
import { batchJobs, stories } from '../db/schema.js';
import { addToWorkContext, currentWorkContext, runInWorkContext } from '../logging/work-context.js';
import { stepOfQueue } from '../pipeline/catalog.js';
import type { QueueName } from '../repositories/job-catalog.js';
import { type JobObserver, QueueRepository } from '../repositories/queue.repository.js';
import {
  addScrapeSource,
  batchesByStatus,
  jobRetries,
  queueJobs,
  queueOldestWaitingAge,
  retryAfterSeconds,
  retryAfterWaits,
  scrapeSourceUp,
  stalledJobs,
  stepDuration,
  storiesByStatus,
} from '../observability/metrics.js';

/** How long a scrape waits for the database's counts while it is unreachable, ms. */
const SCRAPE_QUERY_RETRY_MS = 1_000;

/** Story id → batch id, remembered for this many stories (a story's batch never changes). */
const BATCH_OF_STORY_CACHE = 5_000;

/**
 * Every job of this process runs inside a work context (batchId, storyId, step, chunk, jobId,
 * attempt on each of its log lines) and is measured: step durations, retries, Retry-After waits,
 * stalled jobs. Before each scrape it reads the queues' depths from Redis and the batch and story
 * totals from the database.
 */
@Injectable()
export class JobObserverService implements JobObserver, OnModuleInit, OnModuleDestroy {
  private readonly batchOfStory = new Map<string, string | null>();
  private readonly removeSources: (() => void)[] = [];

  constructor(
    @Inject(DATABASE) private readonly database: DatabaseConnection,
    private readonly queues: QueueRepository,
  ) {}

  onModuleInit(): void {
    this.queues.observe(this);
    this.removeSources.push(addScrapeSource(() => this.readQueues()), addScrapeSource(() => this.readTotals()));
  }

  onModuleDestroy(): void {
    for (const remove of this.removeSources.splice(0)) remove();
  }

  async run(queue: QueueName, job: Job, work: () => Promise<void>): Promise<void> {
    const data = (job.data ?? {}) as { batchId?: string; storyId?: string; chunkIndex?: number };
    const step = stepOfQueue(queue)?.name;
    const attempt = job.attemptsMade + 1;
    return runInWorkContext(
      { queue, jobId: job.id, attempt, step, batchId: data.batchId, storyId: data.storyId, chunk: data.chunkIndex },
      async () => {
        if (data.storyId && !data.batchId) addToWorkContext({ batchId: await this.batchIdOf(data.storyId) });
        if (attempt > 1) jobRetries.inc({ queue, step: step ?? 'none' });
        const started = performance.now();
        let outcome: 'done' | 'failed' | 'requeued' = 'done';
        try {
          await work();
        } catch (error) {
          outcome = error instanceof DelayedError ? 'requeued' : 'failed';
          throw error;
        } finally {
          const context = currentWorkContext();
          const provider = context?.provider ?? 'none';
          if (step) stepDuration.observe({ step, provider, outcome }, (performance.now() - started) / 1000);
          if (step && outcome === 'requeued' && context?.retryAfterMs !== undefined) {
            retryAfterWaits.inc({ step, provider });
            retryAfterSeconds.inc({ step, provider }, context.retryAfterMs / 1000);
          }
        }
      },
    );
  }

  stalled(queue: QueueName): void {
    stalledJobs.inc({ queue });
  }

  /** The story's batch (cached); undefined when it has none or the database does not answer. */
  private async batchIdOf(storyId: string): Promise<string | undefined> {
    if (!this.batchOfStory.has(storyId)) {
      try {
        const [row] = await this.database.db.select({ batchId: stories.batchId }).from(stories).where(eq(stories.id, storyId));
        if (this.batchOfStory.size >= BATCH_OF_STORY_CACHE) this.batchOfStory.clear();
        this.batchOfStory.set(storyId, row?.batchId ?? null);
      } catch {
        return undefined;
      }
    }
    return this.batchOfStory.get(storyId) ?? undefined;
  }

  private async readQueues(): Promise<void> {
    try {
      const stats = await this.queues.stats();
      queueJobs.reset();
      for (const { queue, counts, oldestWaitingMs } of stats) {
        for (const [state, n] of Object.entries(counts)) queueJobs.set({ queue, state }, n);
        queueOldestWaitingAge.set({ queue }, oldestWaitingMs / 1000);
      }
      scrapeSourceUp.set({ source: 'queues' }, 1);
    } catch {
      scrapeSourceUp.set({ source: 'queues' }, 0);
    }
  }

  private async readTotals(): Promise<void> {
    try {
      const db = this.database.db;
      const [batches, storyRows] = await withQueryRetryBudget(SCRAPE_QUERY_RETRY_MS, () =>
        Promise.all([
          db.select({ status: batchJobs.status, n: count() }).from(batchJobs).groupBy(batchJobs.status),
          db.select({ status: stories.status, n: count() }).from(stories).groupBy(stories.status),
        ]),
      );
      batchesByStatus.reset();
      storiesByStatus.reset();
      for (const row of batches) batchesByStatus.set({ status: row.status }, row.n);
      for (const row of storyRows) storiesByStatus.set({ status: row.status }, row.n);
      scrapeSourceUp.set({ source: 'database' }, 1);
    } catch {
      scrapeSourceUp.set({ source: 'database' }, 0);
    }
  }
}
