import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { Story } from '../db/schema.js';
import { RUN_WORKERS } from '../pipeline/pipeline.worker.js';
import { BatchRepository } from '../repositories/batch.repository.js';
import { QueueRepository } from '../repositories/queue.repository.js';
import { runKey, StepRunRepository } from '../repositories/step-run.repository.js';
import { StoryRepository } from '../repositories/story.repository.js';

/** Most stories (and batches) one pass looks at; the next pass takes the rest. */
const PASS_LIMIT = 500;

/** What one reconciler pass found and did. */
export interface ReconcileReport {
  batchesChecked: number;
  storiesChecked: number;
  /** Jobs that were missing from Redis and were added again. */
  jobsRebuilt: number;
}

/**
 * Rebuilds lost queue jobs from the database, which is the source of truth: for every batch not
 * yet started and every story not yet ended, each piece of work the database says is queued or
 * running must have its job in Redis; a missing one (Redis restarted empty, keys evicted) is
 * added again under its deterministic id. Work recorded as done is never queued again, a job
 * that exists in any state is left alone, and work a live worker is still running (a step run
 * started within the last `JOB_LOCK_DURATION_MS`) is not queued twice, so a pass is safe at any
 * time and from any number of processes. Runs at start-up and every `RECONCILE_INTERVAL_MS` in processes that run workers.
 */
@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Reconciler');
  private timer?: NodeJS.Timeout;
  private pass?: Promise<unknown>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(RUN_WORKERS) private readonly runWorkers: boolean,
    private readonly batches: BatchRepository,
    private readonly stories: StoryRepository,
    private readonly queues: QueueRepository,
    private readonly stepRuns: StepRunRepository,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.runWorkers) return;
    this.schedule();
    const every = this.config.jobs.reconcileIntervalMs;
    if (every > 0) this.timer = setInterval(() => this.schedule(), every).unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.pass;
  }

  /** Runs a pass unless one is still running; logs instead of throwing (Redis or PostgreSQL may be down). */
  private schedule(): void {
    if (this.pass) return;
    this.pass = this.reconcile()
      .catch((error: Error) => this.logger.warn(`Pass failed, will try again: ${error.message}`))
      .finally(() => (this.pass = undefined));
  }

  /**
   * One pass over the unfinished work.
   * @throws when Redis or PostgreSQL cannot be reached.
   */
  async reconcile(): Promise<ReconcileReport> {
    const report: ReconcileReport = { batchesChecked: 0, storiesChecked: 0, jobsRebuilt: 0 };
    for (const batch of await this.batches.listPending(PASS_LIMIT)) {
      report.batchesChecked += 1;
      if (await this.queues.ensure('batch-stories', { batchId: batch.id })) report.jobsRebuilt += 1;
    }
    for (const story of await this.stories.listUnfinished(PASS_LIMIT)) {
      report.storiesChecked += 1;
      report.jobsRebuilt += await this.reconcileStory(story);
    }
    if (report.jobsRebuilt) {
      this.logger.warn(`Rebuilt ${report.jobsRebuilt} missing job(s) from the database (${report.storiesChecked} unfinished stories checked)`);
    }
    return report;
  }

  /** Adds the jobs missing for one story; returns how many were added. */
  private async reconcileStory(story: Story): Promise<number> {
    const storyId = story.id;
    const busy = (status: Story['storyStep']) => status === 'queued' || status === 'running';
    // A worker that lost its job's keys still runs it in memory; its run is recent.
    const live = await this.stepRuns.runningSince(storyId, new Date(Date.now() - this.config.jobs.lockDurationMs));
    const added: boolean[] = [];
    if (busy(story.storyStep) && !live.has(runKey('story'))) added.push(await this.queues.ensure('story-generation', { storyId }));
    for (const step of ['images', 'audio'] as const) {
      if (!busy(step === 'images' ? story.imagesStep : story.audioStep)) continue;
      const chunks = step === 'images' ? await this.stories.imageChunks(storyId) : await this.stories.audioChunks(storyId);
      const queue = step === 'images' ? 'image-generation' : 'audio-generation';
      for (const chunk of chunks) {
        if (chunk.status === 'completed' || live.has(runKey(step, chunk.index))) continue;
        added.push(await this.queues.ensure(queue, { storyId, chunkIndex: chunk.index }));
      }
      // Every chunk is done but the step was never closed (its worker died in between): close it here.
      if (await this.stories.completeStepIfAllChunksDone(storyId, step)) added.push(await this.queues.ensure('auto-mode', { storyId, after: step }));
    }
    if (busy(story.mergeStep) && !live.has(runKey('merge'))) added.push(await this.queues.ensure('audio-merge', { storyId }));
    if (busy(story.videoStep) && !live.has(runKey('video'))) added.push(await this.queues.ensure('video-render', { storyId }));
    // A batch's story that was never started: the batch's start job was lost.
    if (story.storyStep === 'pending' && story.batchId) added.push(await this.queues.ensure('batch-stories', { batchId: story.batchId }));
    const anyBusy = [story.storyStep, story.imagesStep, story.audioStep, story.mergeStep, story.videoStep].some(busy);
    // Nothing queued or running: the decision of what comes next was lost (or every chunk of a
    // step finished without the step being closed). The orchestrator decides again.
    if (!anyBusy && (story.status === 'processing' || story.storyStep === 'completed' || story.failedStep)) {
      added.push(await this.queues.ensure('auto-mode', { storyId, after: 'story' }));
    }
    return added.filter(Boolean).length;
  }
}
