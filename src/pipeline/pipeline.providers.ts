import type { Provider } from '@nestjs/common';
import { PIPELINE_STEPS } from './catalog.js';
import { PipelineWorker } from './pipeline.worker.js';
import { StepRunnerService } from './step-runner.service.js';
import { AudioChunkMaker } from './steps/audio-chunk.maker.js';
import { ChunkStepRunner } from './steps/chunk-step.runner.js';
import { ImageChunkMaker } from './steps/image-chunk.maker.js';
import { WorkerHeartbeatService } from './worker-heartbeat.service.js';

/**
 * The Nest providers of the pipeline: the run class of every once-per-story step in
 * PIPELINE_STEPS, the chunk-step runner and its makers, the step runner, the workers and their
 * heartbeat. A step added to the catalog is provided here without a change.
 */
export const PIPELINE_PROVIDERS: Provider[] = [
  ...PIPELINE_STEPS.flatMap((step) => ('run' in step ? [step.run] : [])),
  ChunkStepRunner,
  ImageChunkMaker,
  AudioChunkMaker,
  StepRunnerService,
  PipelineWorker,
  WorkerHeartbeatService,
];
