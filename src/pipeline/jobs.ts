import { type StepName, STEPS } from '../db/schema.js';

/**
 * The job catalog: queue name → payload. Payloads hold ids only; PostgreSQL holds the state.
 * Queue names are the seed's, plus `video-render`.
 */
export interface JobCatalog {
  'batch-stories': { batchId: string };
  'story-generation': { storyId: string };
  'image-generation': { storyId: string; chunkIndex: number };
  'audio-generation': { storyId: string; chunkIndex: number };
  'audio-merge': { storyId: string };
  'video-render': { storyId: string };
  /** Decide what comes next for a story after `after` finished. */
  'auto-mode': { storyId: string; after: StepName };
}

export type QueueName = keyof JobCatalog;

export const QUEUE_NAMES: readonly QueueName[] = [
  'batch-stories',
  'story-generation',
  'image-generation',
  'audio-generation',
  'audio-merge',
  'video-render',
  'auto-mode',
];

/** The step whose work a queue does (`batch-stories` and `auto-mode` do orchestration only). */
export const STEP_OF_QUEUE: Partial<Record<QueueName, StepName>> = {
  'story-generation': 'story',
  'image-generation': 'images',
  'audio-generation': 'audio',
  'audio-merge': 'merge',
  'video-render': 'video',
};

/**
 * Deterministic job id for a payload: adding the same work twice while it is waiting or running
 * is a no-op in BullMQ. (BullMQ ids may not contain `:`, hence the dots.)
 */
export function jobIdFor<Q extends QueueName>(queue: Q, data: JobCatalog[Q]): string {
  switch (queue) {
    case 'batch-stories':
      return `batch.${(data as JobCatalog['batch-stories']).batchId}`;
    case 'story-generation':
      return `story.${(data as JobCatalog['story-generation']).storyId}`;
    case 'image-generation': {
      const d = data as JobCatalog['image-generation'];
      return `image.${d.storyId}.${d.chunkIndex}`;
    }
    case 'audio-generation': {
      const d = data as JobCatalog['audio-generation'];
      return `audio.${d.storyId}.${d.chunkIndex}`;
    }
    case 'audio-merge':
      return `merge.${(data as JobCatalog['audio-merge']).storyId}`;
    case 'video-render':
      return `video.${(data as JobCatalog['video-render']).storyId}`;
    case 'auto-mode': {
      const d = data as JobCatalog['auto-mode'];
      return `auto.${d.storyId}.${d.after}`;
    }
    default:
      throw new Error(`Unknown queue ${String(queue)}`);
  }
}

/** A job of the catalog: its queue and payload. */
export type QueuedJob = { [Q in QueueName]: { queue: Q; data: JobCatalog[Q] } }[QueueName];

/** Every job that can exist for one story, given its chunk indexes: used to remove a cancelled story's queued work. */
export function storyJobs(storyId: string, imageIndexes: number[], audioIndexes: number[]): QueuedJob[] {
  return [
    { queue: 'story-generation', data: { storyId } },
    ...imageIndexes.map((chunkIndex): QueuedJob => ({ queue: 'image-generation', data: { storyId, chunkIndex } })),
    ...audioIndexes.map((chunkIndex): QueuedJob => ({ queue: 'audio-generation', data: { storyId, chunkIndex } })),
    { queue: 'audio-merge', data: { storyId } },
    { queue: 'video-render', data: { storyId } },
    ...STEPS.map((after): QueuedJob => ({ queue: 'auto-mode', data: { storyId, after } })),
  ];
}
