import { Injectable, Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Story } from '../db/schema.js';
import { batchRoom, mapBatchStatus, storyRoom } from '../dtos/batch.dto.js';
import { stepsOf, storyPercentage, storyUrls } from '../dtos/story-response.dto.js';
import { type BatchEvent, EventsRepository, type PipelineEvent, type StepEvent, type StoryEvent } from '../repositories/events.repository.js';
import { LiveEventsRepository } from '../repositories/live-events.repository.js';
import { StoryRepository, storyHasEnded } from '../repositories/story.repository.js';
import { BatchService } from './batch.service.js';

/** How long shutdown waits for events still being sent, ms. */
const DRAIN_TIMEOUT_MS = 5000;

/**
 * Turns the pipeline's in-process events into the seed's Socket.IO events and publishes them to
 * their rooms through Redis, where they happen (in `worker`, `serve` and `run` alike), once each:
 *
 * | pipeline event | room | Socket.IO events |
 * | --- | --- | --- |
 * | batch refreshed | `batch-<id>` | `batch-stories-start` (first time), `batch-stories-progress`, then `batch-stories-complete` (completed, partially_completed) or `batch-stories-error` (failed) once |
 * | step started / progress / done / failed | `story-<id>` | `auto-mode-start` (story step started, once per run), `story-step`, `auto-mode-progress` |
 * | story completed / failed | `story-<id>` | `auto-mode-complete` / `auto-mode-error` |
 *
 * `auto-mode-*` events are sent for stories with auto mode on; `story-step` for every story.
 * Events are translated one at a time in the order they were emitted. Each is built from the
 * database as it is when it is sent, under a per-room lock shared by all processes, and gets the next
 * sequence number of its room: a room's numbers have no gaps, and what they carry (percentages,
 * counts) never goes back.
 */
@Injectable()
export class LiveEventsService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('LiveEvents');
  private chain: Promise<void> = Promise.resolve();
  private unsubscribe?: () => void;

  constructor(
    private readonly events: EventsRepository,
    private readonly live: LiveEventsRepository,
    private readonly batchService: BatchService,
    private readonly stories: StoryRepository,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.events.subscribe((event) => {
      this.chain = this.chain.then(
        () => this.translate(event),
      ).catch((error: unknown) => this.logger.warn(`Could not send a ${event.type} event: ${(error as Error).message}`));
    });
  }

  /** Stops listening and waits (a few seconds at most) for the events already taken to go out. */
  async beforeApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.chain, new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_TIMEOUT_MS)))]);
    clearTimeout(timer);
  }

  /** Publishes the Socket.IO events of one pipeline event. */
  async translate(event: PipelineEvent): Promise<void> {
    switch (event.type) {
      case 'step':
        return this.onStep(event);
      case 'story':
        return this.onStory(event);
      case 'batch':
        return this.onBatch(event);
    }
  }

  private publish(room: string, name: string, data: Record<string, unknown>): Promise<number> {
    return this.live.publish(room, name, { ...data, at: new Date().toISOString() });
  }

  private async onStep(event: StepEvent): Promise<void> {
    const room = storyRoom(event.storyId);
    await this.live.withRoomLock(room, async () => {
      const progress = await this.stories.storyProgress(event.storyId);
      if (!progress) return;
      const { story } = progress;
      const base = { storyId: story.id, batchId: story.batchId };
      if (story.autoMode.enabled && event.step === 'story' && event.state === 'started' && (await this.live.once(startMarker(story)))) {
        await this.publish(room, 'auto-mode-start', { ...base, steps: stepsOf(story), autoMode: story.autoMode });
      }
      const step = {
        ...base,
        step: event.step,
        state: event.state,
        ...(event.done !== undefined ? { done: event.done, total: event.total } : {}),
        ...(event.error ? { error: event.error } : {}),
      };
      await this.publish(room, 'story-step', step);
      if (story.autoMode.enabled) {
        await this.publish(room, 'auto-mode-progress', {
          ...step,
          status: story.status,
          steps: stepsOf(story),
          percentage: storyPercentage(story, progress),
        });
      }
    });
  }

  private async onStory(event: StoryEvent): Promise<void> {
    const room = storyRoom(event.storyId);
    await this.live.withRoomLock(room, async () => {
      const story = await this.stories.get(event.storyId);
      if (!story) return;
      if (story.autoMode.enabled) {
        const base = { storyId: story.id, batchId: story.batchId, status: event.status, title: story.title, steps: stepsOf(story) };
        if (event.status === 'completed') {
          await this.publish(room, 'auto-mode-complete', {
            ...base,
            percentage: 100,
            narrationUrl: story.narrationKey && story.mergeStep === 'completed' ? storyUrls.narration(story.id) : null,
          });
        } else if (event.status === 'failed') {
          await this.publish(room, 'auto-mode-error', { ...base, step: story.failedStep, error: event.error ?? story.error });
        } else if (event.status === 'cancelled') {
          await this.publish(room, 'auto-mode-error', { ...base, error: 'The story was cancelled; POST /stories/:id/retry continues it' });
        }
      }
      if (storyHasEnded(event)) await this.live.forget(startMarker(story));
    });
  }

  /** Batch events carry the batch as it is in the database when they are sent (counts, results, progress). */
  private async onBatch(event: BatchEvent): Promise<void> {
    const room = batchRoom(event.batchId);
    await this.live.withRoomLock(room, async () => {
      const snapshot = await this.batchService.snapshot(event.batchId);
      if (!snapshot) return;
      const { batch, summary } = snapshot;
      const status = mapBatchStatus(batch, snapshot.inputs, summary).status;
      if (batch.startedAt && (await this.live.once(`batch-start:${batch.id}`))) {
        await this.publish(room, 'batch-stories-start', { batchId: batch.id, status: 'processing', totalFiles: batch.totalFiles, startedAt: batch.startedAt });
      }
      const data = {
        batchId: batch.id,
        status,
        totalFiles: batch.totalFiles,
        processedFiles: summary.processedFiles,
        failedFiles: summary.failedFiles,
        progress: summary.progress,
        results: summary.results,
      };
      if (status === 'pending' || status === 'processing') {
        // A retried batch ends again later, and says so again.
        if (batch.completedAt === null) await this.live.forget(`batch-end:${batch.id}`);
        await this.publish(room, 'batch-stories-progress', data);
      } else if (summary.finished && (await this.live.once(`batch-end:${batch.id}`))) {
        // Sent once every story has ended, so that it tells each story's final state.
        const end = { ...data, completedAt: batch.completedAt ?? new Date() };
        if (status === 'failed') {
          await this.publish(room, 'batch-stories-error', { ...end, error: 'Every story of the batch failed; results[] says where and why' });
        } else if (status === 'cancelled') {
          await this.publish(room, 'batch-stories-error', { ...end, error: 'The batch was cancelled; POST /stories/batch/:batchId/retry continues it' });
        } else {
          await this.publish(room, 'batch-stories-complete', end);
        }
      }
    });
  }
}

const startMarker = (story: Pick<Story, 'id'>) => `auto-mode-start:${story.id}`;
