import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';
import type { BatchProgress, BatchStatus, StepName, StoryStatus } from '../db/schema.js';

/** A step changed state on a story; `progress` carries chunk counts for images and audio. */
export interface StepEvent {
  type: 'step';
  storyId: string;
  batchId: string | null;
  step: StepName;
  state: 'started' | 'progress' | 'done' | 'failed';
  /** Finished chunks so far (images, audio). */
  done?: number;
  total?: number;
  error?: string;
}

export interface StoryEvent {
  type: 'story';
  storyId: string;
  batchId: string | null;
  status: StoryStatus;
  error?: string;
}

export interface BatchEvent {
  type: 'batch';
  batchId: string;
  status: BatchStatus;
  progress: BatchProgress;
}

export type PipelineEvent = StepEvent | StoryEvent | BatchEvent;

/**
 * Publishes pipeline events to listeners in this process (the CLI's progress bars, the
 * WebSocket gateway). Emitting never throws into the pipeline: a failing listener is isolated.
 */
@Injectable()
export class EventsRepository {
  private readonly emitter = new EventEmitter().setMaxListeners(100);

  emit(event: PipelineEvent): void {
    for (const listener of this.emitter.listeners('event')) {
      try {
        (listener as (event: PipelineEvent) => void)(event);
      } catch {
        // a listener's own problem must not fail a pipeline step
      }
    }
  }

  /** Subscribes to every event; returns the unsubscribe function. */
  subscribe(listener: (event: PipelineEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
