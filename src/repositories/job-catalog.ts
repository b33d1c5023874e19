import { z } from 'zod';
import { STEPS } from '../db/schema.js';

const storyPayload = z.object({ storyId: z.string().min(1) }).strict();
const chunkPayload = z.object({ storyId: z.string().min(1), chunkIndex: z.number().int().min(0) }).strict();

/**
 * The job catalog: queue name → payload schema. Payloads hold ids only; PostgreSQL holds the
 * state. Queue names are the seed's, plus `video-render`. A worker validates a job's payload
 * against its schema when it picks the job up ({@link parseJobPayload}).
 */
export const JOB_PAYLOADS = {
  'batch-stories': z.object({ batchId: z.string().min(1) }).strict(),
  'story-generation': storyPayload,
  'image-generation': chunkPayload,
  'audio-generation': chunkPayload,
  'audio-merge': storyPayload,
  'video-render': storyPayload,
  /** Decide what comes next for a story after `after` finished. */
  'auto-mode': z.object({ storyId: z.string().min(1), after: z.enum(STEPS) }).strict(),
} as const;

export type QueueName = keyof typeof JOB_PAYLOADS;

/** Queue name → payload type. */
export type JobCatalog = { [Q in QueueName]: z.infer<(typeof JOB_PAYLOADS)[Q]> };

/** Every queue of the catalog, in the catalog's order. */
export const QUEUE_NAMES = Object.keys(JOB_PAYLOADS) as QueueName[];

/**
 * One job-id function per queue: adding the same work twice while it is waiting or running is a
 * no-op in BullMQ. (BullMQ ids may not contain `:`, hence the dots.) A queue without one is a
 * compile error.
 */
const JOB_IDS: { [Q in QueueName]: (data: JobCatalog[Q]) => string } = {
  'batch-stories': (d) => `batch.${d.batchId}`,
  'story-generation': (d) => `story.${d.storyId}`,
  'image-generation': (d) => `image.${d.storyId}.${d.chunkIndex}`,
  'audio-generation': (d) => `audio.${d.storyId}.${d.chunkIndex}`,
  'audio-merge': (d) => `merge.${d.storyId}`,
  'video-render': (d) => `video.${d.storyId}`,
  'auto-mode': (d) => `auto.${d.storyId}.${d.after}`,
};

/** Deterministic job id for a payload (see {@link JOB_IDS}). */
export function jobIdFor<Q extends QueueName>(queue: Q, data: JobCatalog[Q]): string {
  const id: (data: JobCatalog[Q]) => string = JOB_IDS[queue];
  return id(data);
}

/** A job of the catalog: its queue and payload. */
export type QueuedJob = { [Q in QueueName]: { queue: Q; data: JobCatalog[Q] } }[QueueName];

/** A job's payload does not match its queue's schema (written by another version, or by hand). */
export class InvalidJobPayloadError extends Error {
  override readonly name = 'InvalidJobPayloadError';
}

/**
 * Checks a job's payload against its queue's schema.
 * @returns the payload, typed.
 * @throws InvalidJobPayloadError naming the queue, the job and each field that is wrong.
 */
export function parseJobPayload<Q extends QueueName>(queue: Q, jobId: string | undefined, data: unknown): JobCatalog[Q] {
  const result = JOB_PAYLOADS[queue].safeParse(data);
  if (result.success) return result.data as JobCatalog[Q];
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'payload'}: ${issue.message}`).join('; ');
  throw new InvalidJobPayloadError(`Job ${jobId ?? '(no id)'} of queue ${queue} has a malformed payload (${problems}); it cannot run`);
}
