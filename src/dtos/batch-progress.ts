import type { BatchFileResult, BatchProgress, BatchStatus, StepName } from '../db/schema.js';
import { STEP_COLUMN, storyHasEnded, type StoryProgressRow } from '../repositories/story.repository.js';
import { STEPS } from '../db/schema.js';
import { isChunkStep, PIPELINE_STEPS } from '../pipeline/catalog.js';

export interface StoryProgressInput {
  story: StoryProgressRow;
  fileName: string;
  images: { done: number; total: number };
  audio: { done: number; total: number };
  /** The fallbacks this story used, e.g. "audio 2: espeak-ng (after edge)"; none when absent. */
  fallbacks?: string[];
}

/**
 * Share of a story's requested work that is finished, 0–1. Each requested step weighs 1; images
 * and audio count their finished chunks; a skipped step does not count; a story that has ended
 * (completed, failed or cancelled) is 1: its work is over.
 */
export function storyFraction(input: StoryProgressInput): number {
  const { story } = input;
  if (storyHasEnded(story)) return 1;
  let total = 0;
  let done = 0;
  for (const step of PIPELINE_STEPS) {
    const status = story[STEP_COLUMN[step.name]];
    if (status === 'skipped') continue;
    total += 1;
    if (status === 'completed') done += 1;
    else if (isChunkStep(step)) {
      const counts = input[step.chunks];
      if (counts.total > 0) done += counts.done / counts.total;
    }
  }
  return total === 0 ? 1 : done / total;
}

/** The step a story is working on now: the first running step, else the first queued one. */
export function currentStep(story: StoryProgressRow): StepName | undefined {
  return (
    STEPS.find((step) => story[STEP_COLUMN[step]] === 'running') ??
    STEPS.find((step) => story[STEP_COLUMN[step]] === 'queued')
  );
}

export interface BatchSummary {
  status: BatchStatus;
  processedFiles: number;
  failedFiles: number;
  results: BatchFileResult[];
  progress: BatchProgress;
  finished: boolean;
}

/**
 * A batch's seed fields computed from its stories. The batch is finished only when every story
 * has ended (completed every requested step, failed, or was cancelled): `completed` (all
 * succeeded), `partially_completed` (some succeeded), `failed` (none succeeded and one failed),
 * `cancelled` (none succeeded, none failed, some cancelled). A batch cancelled as a whole keeps
 * `cancelled` (see BatchService.refresh).
 */
export function summarizeBatch(inputs: StoryProgressInput[], batchStartedAt: Date | null): BatchSummary {
  const results: BatchFileResult[] = inputs.map(({ story, fileName }) => ({
    file: fileName,
    uploadId: story.uploadId ?? '',
    storyId: story.id,
    status: story.status,
    ...(story.status === 'failed' ? { failedStep: story.failedStep ?? undefined, error: story.error ?? undefined } : {}),
    ...(story.completedAt && batchStartedAt
      ? { processingTime: story.completedAt.getTime() - batchStartedAt.getTime() }
      : {}),
  }));
  const processedFiles = inputs.filter(({ story }) => story.status === 'completed').length;
  const failedFiles = inputs.filter(({ story }) => story.status === 'failed').length;
  const finished = inputs.every(({ story }) => storyHasEnded(story));
  const percentage = inputs.length
    ? Math.floor((inputs.reduce((sum, input) => sum + storyFraction(input), 0) / inputs.length) * 100)
    : 100;
  const active = inputs.find(({ story }) => currentStep(story) !== undefined);
  const status: BatchStatus = !finished
    ? 'processing'
    : processedFiles === inputs.length
      ? 'completed'
      : processedFiles > 0
        ? 'partially_completed'
        : failedFiles > 0
          ? 'failed'
          : 'cancelled';
  return {
    status,
    processedFiles,
    failedFiles,
    results,
    finished,
    progress: {
      percentage: finished ? 100 : Math.min(percentage, 99),
      ...(active ? { currentFile: active.fileName, currentStep: currentStep(active.story) } : {}),
    },
  };
}
