import type { Type } from '@nestjs/common';
import type { AutoModeConfig, StepName, Story } from '../db/schema.js';
import type { JobCatalog, QueueName, QueuedJob } from '../repositories/job-catalog.js';
import { artifactKeys } from '../repositories/storage.repository.js';
import type { ChunkKind } from '../repositories/story.repository.js';
import { MergeStep } from './steps/merge.step.js';
import { StoryStep } from './steps/story.step.js';
import { VideoStep } from './steps/video.step.js';

/** Queues whose payload is exactly `P`. */
type QueueOf<P> = { [Q in QueueName]: JobCatalog[Q] extends P ? (P extends JobCatalog[Q] ? Q : never) : never }[QueueName];

/** Queues of steps that run once per story (`{ storyId }`). */
export type StoryQueue = QueueOf<{ storyId: string }>;
/** Queues of steps that run once per chunk (`{ storyId, chunkIndex }`). */
export type ChunkQueue = QueueOf<{ storyId: string; chunkIndex: number }>;
/** Queues that orchestrate and do no step's work. */
export type OrchestrationQueue = 'batch-stories' | 'auto-mode';

/** A step that runs once per story: does its work, or returns at once when there is none left. */
export interface StoryStepRun {
  /**
   * @throws what the step throws; the step runner turns it into a retry or a failure
   * (see StepRunnerService).
   */
  run(storyId: string, signal?: AbortSignal): Promise<void>;
}

interface StepFacts<N extends StepName> {
  name: N;
  /** Steps that must be `completed` before this one starts. */
  needs: readonly StepName[];
  /** Whether a story with this auto-mode config runs the step (else it starts as `skipped`). */
  requested(autoMode: AutoModeConfig): boolean;
}

/** A step that runs once per story, on its own queue. */
export interface StoryPipelineStep<N extends StepName = StepName> extends StepFacts<N> {
  queue: StoryQueue;
  /** The Nest provider that runs it. */
  run: Type<StoryStepRun>;
  /**
   * What a failed run may leave half-made: the storage keys it writes and the story columns that
   * point at them, removed and cleared by the rollback.
   */
  artifacts: { keys(storyId: string): string[]; columns: readonly (keyof Story)[] };
}

/** A step that runs once per chunk of one kind, each on its own job (see ChunkStepRunner). */
export interface ChunkPipelineStep<N extends StepName = StepName> extends StepFacts<N> {
  queue: ChunkQueue;
  chunks: ChunkKind;
  /** Where its chunks' files go: one key per chunk, all in one folder of the story. */
  artifacts: { key(storyId: string, index: number, extension: string): string; folder(storyId: string): string };
}

export type PipelineStep = StoryPipelineStep | ChunkPipelineStep;

/** True for a step that runs once per chunk. */
export function isChunkStep(step: PipelineStep): step is ChunkPipelineStep {
  return 'chunks' in step;
}

/**
 * The story's steps, in order: the one description of each step. The orchestrator starts a
 * `pending` step once its `needs` are completed; the reconciler, the rollback, the requested
 * steps, the recovery's job list and the workers all read their per-step rules from here.
 * story → images and audio side by side → merge (after all audio) → video (after merge and all
 * images, when asked).
 */
export const PIPELINE_STEPS = [
  {
    name: 'story',
    queue: 'story-generation',
    needs: [],
    requested: () => true,
    run: StoryStep,
    // The story step writes its chunks in one transaction at its end: nothing is ever half-written.
    artifacts: { keys: () => [], columns: [] },
  },
  {
    name: 'images',
    queue: 'image-generation',
    chunks: 'images',
    artifacts: { key: artifactKeys.image, folder: artifactKeys.imagesFolder },
    needs: ['story'],
    requested: (autoMode) => autoMode.enabled && autoMode.generateImages,
  },
  {
    name: 'audio',
    queue: 'audio-generation',
    chunks: 'audio',
    artifacts: { key: artifactKeys.clip, folder: artifactKeys.audioFolder },
    needs: ['story'],
    requested: (autoMode) => autoMode.enabled && autoMode.generateAudio,
  },
  {
    name: 'merge',
    queue: 'audio-merge',
    needs: ['audio'],
    requested: (autoMode) => autoMode.enabled && autoMode.generateAudio && autoMode.mergeAudio,
    run: MergeStep,
    artifacts: {
      keys: (storyId) => [artifactKeys.narration(storyId), artifactKeys.subtitles(storyId, 'srt'), artifactKeys.subtitles(storyId, 'vtt'), artifactKeys.wordSubtitles(storyId)],
      columns: ['narrationKey', 'subtitlesKey'],
    },
  },
  {
    name: 'video',
    queue: 'video-render',
    // The video needs the merged narration and every image.
    needs: ['merge', 'images'],
    requested: (autoMode) => autoMode.enabled && autoMode.renderVideo === true && autoMode.generateImages && autoMode.generateAudio && autoMode.mergeAudio,
    run: VideoStep,
    artifacts: { keys: (storyId) => [artifactKeys.video(storyId), artifactKeys.soundtrack(storyId), artifactKeys.thumbnail(storyId)], columns: ['videoKey'] },
  },
] as const satisfies readonly PipelineStep[];

// Compile-time checks: every step name has a description, and every queue of the job catalog
// runs a step or orchestrates (a queue left without a handler does not compile).
type Described = (typeof PIPELINE_STEPS)[number];
const everyStepDescribed: [Exclude<StepName, Described['name']>] extends [never] ? true : never = true;
const everyQueueHandled: [Exclude<QueueName, Described['queue'] | OrchestrationQueue>] extends [never] ? true : never = true;
void everyStepDescribed;
void everyQueueHandled;

const STEP_LIST: readonly PipelineStep[] = PIPELINE_STEPS;
const BY_NAME = new Map<StepName, PipelineStep>(STEP_LIST.map((step) => [step.name, step]));
const BY_QUEUE = new Map<QueueName, PipelineStep>(STEP_LIST.map((step) => [step.queue, step]));

/** The description of a step. */
export function pipelineStep(name: StepName): PipelineStep {
  return BY_NAME.get(name)!;
}

/** The step whose work a queue does; undefined for the orchestration queues. */
export function stepOfQueue(queue: QueueName): PipelineStep | undefined {
  return BY_QUEUE.get(queue);
}

/** The chunked step that makes chunks of a kind. */
export function chunkStep(kind: ChunkKind): ChunkPipelineStep {
  return STEP_LIST.filter(isChunkStep).find((step) => step.chunks === kind)!;
}

/**
 * The steps made from a step's output, directly or through another step, in pipeline order:
 * what a regenerated chunk of `name` runs again (`images` → video; `audio` → merge, video).
 */
export function dependentSteps(name: StepName): StepName[] {
  const dependents: StepName[] = [];
  for (const step of STEP_LIST) {
    if (step.needs.some((need) => need === name || dependents.includes(need))) dependents.push(step.name);
  }
  return dependents;
}

/**
 * Every job that can exist for one story, given its chunk indexes per kind: used to remove a
 * cancelled story's queued work.
 */
export function storyJobs(storyId: string, chunkIndexes: Record<ChunkKind, number[]>): QueuedJob[] {
  const jobs: QueuedJob[] = [];
  for (const step of STEP_LIST) {
    if (isChunkStep(step)) jobs.push(...chunkIndexes[step.chunks].map((chunkIndex): QueuedJob => ({ queue: step.queue, data: { storyId, chunkIndex } })));
    else jobs.push({ queue: step.queue, data: { storyId } });
  }
  jobs.push(...PIPELINE_STEPS.map((step): QueuedJob => ({ queue: 'auto-mode', data: { storyId, after: step.name } })));
  return jobs;
}
