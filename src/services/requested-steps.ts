import type { AutoModeConfig, StepName, StepStatus } from '../db/schema.js';

/**
 * Which steps a story runs, from its auto-mode config: the story step always; images and audio
 * when asked; merge when audio is made and merging is asked; video when asked and images, audio
 * and merge are made. Without auto mode only the story step runs. Steps not requested start as
 * `skipped`; a pending step is started by {@link OrchestratorService.advance} as soon as what it
 * needs is done.
 */
export function requestedSteps(autoMode: AutoModeConfig): Record<StepName, boolean> {
  const auto = autoMode.enabled;
  return {
    story: true,
    images: auto && autoMode.generateImages,
    audio: auto && autoMode.generateAudio,
    merge: auto && autoMode.generateAudio && autoMode.mergeAudio,
    // The video needs the images and the merged narration.
    video: auto && autoMode.renderVideo === true && autoMode.generateImages && autoMode.generateAudio && autoMode.mergeAudio,
  };
}

/** A new story's step columns: `pending` for each requested step after the story step, else `skipped`. */
export function initialStepStatuses(
  autoMode: AutoModeConfig,
): { imagesStep: StepStatus; audioStep: StepStatus; mergeStep: StepStatus; videoStep: StepStatus } {
  const steps = requestedSteps(autoMode);
  const status = (requested: boolean): StepStatus => (requested ? 'pending' : 'skipped');
  return {
    imagesStep: status(steps.images),
    audioStep: status(steps.audio),
    mergeStep: status(steps.merge),
    videoStep: status(steps.video),
  };
}
