import type { AutoModeConfig, StepName, StepStatus } from '../db/schema.js';
import { PIPELINE_STEPS } from '../pipeline/catalog.js';
import { STEP_COLUMN, type StepColumn } from '../repositories/story.repository.js';

/**
 * Which steps a story runs, from its auto-mode config: each step's `requested` rule in
 * PIPELINE_STEPS (the story step always; images and audio when asked; merge when audio is made and
 * merging is asked; video when asked and images, audio and merge are made). Without auto mode only
 * the story step runs. Steps not requested start as `skipped`; a pending step is started by
 * {@link OrchestratorService.advance} as soon as what it needs is done.
 */
export function requestedSteps(autoMode: AutoModeConfig): Record<StepName, boolean> {
  return Object.fromEntries(PIPELINE_STEPS.map((step) => [step.name, step.requested(autoMode)])) as Record<StepName, boolean>;
}

/** The auto-mode switches a video needs on: images, narration clips and the merged narration. */
export const VIDEO_NEEDS = ['generateImages', 'generateAudio', 'mergeAudio'] as const;

/**
 * The one rule for asking for a video: when `renderVideo` is true, the switches of
 * {@link VIDEO_NEEDS} that are explicitly `false` (absent ones default to on). An empty list means
 * the request is consistent. The API answers 400 for a non-empty list (BatchService.resolveAutoMode),
 * `storyforge run` exits with usage error 2 (`--no-images`, `--no-audio`, `--no-merge` with `--video`).
 */
export function videoBlockers(autoMode: Partial<Pick<AutoModeConfig, 'renderVideo' | (typeof VIDEO_NEEDS)[number]>>): (typeof VIDEO_NEEDS)[number][] {
  if (autoMode.renderVideo !== true) return [];
  return VIDEO_NEEDS.filter((need) => autoMode[need] === false);
}

/** A new story's step columns: `pending` for each requested step after the story step, else `skipped`. */
export function initialStepStatuses(autoMode: AutoModeConfig): Partial<Record<StepColumn, StepStatus>> {
  const steps = requestedSteps(autoMode);
  return Object.fromEntries(PIPELINE_STEPS.filter((step) => step.needs.length > 0).map((step) => [STEP_COLUMN[step.name], steps[step.name] ? 'pending' : 'skipped']));
}
