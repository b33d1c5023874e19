import { ApiProperty } from '@nestjs/swagger';
import { batchStatus, type BatchJob, STEPS, type Story, storyStatus } from '../db/schema.js';
import type { BatchSummary, StoryProgressInput } from './batch-progress.js';
import { ChunkCountDto, stepsOf, StoryStepsDto, type StoryStepsView, storyPercentage, storyUrls } from './story-response.dto.js';

/** Socket.IO room of a batch's events. */
export const batchRoom = (batchId: string) => `batch-${batchId}`;
/** Socket.IO room of a story's events. */
export const storyRoom = (storyId: string) => `story-${storyId}`;

export class BatchStoryRefDto {
  @ApiProperty({ description: 'Story id', example: '5a7c9e1b-2d4f-4a6c-8e0b-1c3d5e7f9a2b', format: 'uuid' })
  id!: string;

  @ApiProperty({ description: 'Upload it is made from', example: '7c1e2b4a-9d3f-4e5a-8b6c-1d2e3f4a5b6c', format: 'uuid' })
  uploadId!: string;

  @ApiProperty({ description: 'File name of the upload', example: 'vi_thanh_giong.txt' })
  file!: string;

  @ApiProperty({ description: 'Socket.IO room of its auto-mode and step events', example: 'story-5a7c9e1b-2d4f-4a6c-8e0b-1c3d5e7f9a2b' })
  room!: string;
}

export class BatchCreatedDto {
  @ApiProperty({ description: 'Batch id', example: '2f4e6a8c-1b3d-4f5a-9c7e-0a2b4c6d8e1f', format: 'uuid' })
  batchId!: string;

  @ApiProperty({ description: 'Batch status (work starts at once, on the workers)', enum: batchStatus.enumValues, example: 'pending' })
  status!: BatchJob['status'];

  @ApiProperty({ description: 'Number of stories (one per file)', example: 3 })
  totalFiles!: number;

  @ApiProperty({ description: 'Where to read its status', example: '/stories/batch/2f4e6a8c-1b3d-4f5a-9c7e-0a2b4c6d8e1f/status' })
  statusUrl!: string;

  @ApiProperty({ description: 'Socket.IO room of its batch events', example: 'batch-2f4e6a8c-1b3d-4f5a-9c7e-0a2b4c6d8e1f' })
  room!: string;

  @ApiProperty({ description: 'Its stories, in file order', type: [BatchStoryRefDto] })
  stories!: BatchStoryRefDto[];
}

export class BatchProgressDto {
  @ApiProperty({ description: 'Share of the batch\'s requested work that is finished, 0–100: the mean of its stories, each counting finished steps and chunks; 100 only when every story has ended', example: 47 })
  percentage!: number;

  @ApiProperty({ description: 'File of a story being worked on now', example: 'vi_thanh_giong.txt', required: false })
  currentFile?: string;

  @ApiProperty({ description: 'Step being worked on in that story', enum: STEPS, example: 'audio', required: false })
  currentStep?: string;
}

export class BatchFileResultDto {
  @ApiProperty({ description: 'File name', example: 'vi_thanh_giong.txt' })
  file!: string;

  @ApiProperty({ description: 'Upload id', example: '7c1e2b4a-9d3f-4e5a-8b6c-1d2e3f4a5b6c' })
  uploadId!: string;

  @ApiProperty({ description: 'Story id', example: '5a7c9e1b-2d4f-4a6c-8e0b-1c3d5e7f9a2b' })
  storyId!: string;

  @ApiProperty({ description: 'Story status', enum: storyStatus.enumValues, example: 'completed' })
  status!: string;

  @ApiProperty({ description: 'The step that failed', enum: STEPS, example: 'audio', required: false })
  failedStep?: string;

  @ApiProperty({ description: 'Why it failed', example: 'No espeak-ng voice for language "xx"', required: false })
  error?: string;

  @ApiProperty({ description: 'Time from the batch\'s start to this story\'s end, ms', example: 18250, required: false })
  processingTime?: number;
}

export class BatchStoryStatusDto {
  @ApiProperty({ description: 'Story id', example: '5a7c9e1b-2d4f-4a6c-8e0b-1c3d5e7f9a2b' })
  storyId!: string;

  @ApiProperty({ description: 'File name', example: 'vi_thanh_giong.txt' })
  file!: string;

  @ApiProperty({ description: 'Title once written', example: 'Thánh Gióng', nullable: true, type: String })
  title!: string | null;

  @ApiProperty({ description: 'Story status', enum: storyStatus.enumValues, example: 'processing' })
  status!: string;

  @ApiProperty({ description: 'State of each step', type: StoryStepsDto })
  steps!: StoryStepsView;

  @ApiProperty({ description: 'Image chunks', type: ChunkCountDto })
  images!: ChunkCountDto;

  @ApiProperty({ description: 'Audio chunks', type: ChunkCountDto })
  audio!: ChunkCountDto;

  @ApiProperty({ description: 'Share of the story\'s requested work that is finished, 0–100', example: 62 })
  percentage!: number;

  @ApiProperty({ description: 'Download address of the narration once merged', example: '/stories/5a7c9e1b-2d4f-4a6c-8e0b-1c3d5e7f9a2b/narration', nullable: true, type: String })
  narrationUrl!: string | null;

  @ApiProperty({ description: 'Parts a fallback provider made, e.g. `audio 3: espeak-ng (after edge)`; empty when none', example: [], type: [String] })
  fallbacks!: string[];
}

export class BatchStatusDto {
  @ApiProperty({ description: 'Batch id', example: '2f4e6a8c-1b3d-4f5a-9c7e-0a2b4c6d8e1f' })
  id!: string;

  @ApiProperty({ description: 'Batch status: completed when every story finished every requested step, partially_completed when some did not, failed when none did and one failed, cancelled when the batch was cancelled', enum: batchStatus.enumValues, example: 'processing' })
  status!: BatchJob['status'];

  @ApiProperty({ description: 'Stories in the batch', example: 3 })
  totalFiles!: number;

  @ApiProperty({ description: 'Stories completed', example: 1 })
  processedFiles!: number;

  @ApiProperty({ description: 'Stories failed', example: 0 })
  failedFiles!: number;

  @ApiProperty({ description: 'Progress, computed from the database now', type: BatchProgressDto })
  progress!: BatchProgressDto;

  @ApiProperty({ description: 'One result per file (seed `results[]`)', type: [BatchFileResultDto] })
  results!: BatchFileResultDto[];

  @ApiProperty({ description: 'Each story with its steps and chunk counts', type: [BatchStoryStatusDto] })
  stories!: BatchStoryStatusDto[];

  @ApiProperty({ description: 'True when a fallback provider made some part of some story (see stories[].fallbacks)', example: false })
  fallbackUsed!: boolean;

  @ApiProperty({ description: 'When the batch was made', example: '2026-01-31T09:12:44.120Z' })
  createdAt!: Date;

  @ApiProperty({ description: 'When work started', example: '2026-01-31T09:12:44.300Z', nullable: true, type: Date })
  startedAt!: Date | null;

  @ApiProperty({ description: 'When the last story ended', example: '2026-01-31T09:13:40.020Z', nullable: true, type: Date })
  completedAt!: Date | null;
}

/** The batch status from a live snapshot: the stored batch with the summary computed from its stories now. */
export function mapBatchStatus(batch: BatchJob, inputs: StoryProgressInput[], summary: BatchSummary): BatchStatusDto {
  const ended = batch.status !== 'pending' && batch.status !== 'processing';
  return {
    id: batch.id,
    status: ended ? batch.status : summary.finished ? summary.status : batch.status,
    totalFiles: batch.totalFiles,
    processedFiles: summary.processedFiles,
    failedFiles: summary.failedFiles,
    progress: summary.progress,
    results: summary.results,
    stories: inputs.map(({ story, fileName, images, audio, fallbacks }) => ({
      storyId: story.id,
      file: fileName,
      title: story.title,
      status: story.status,
      steps: stepsOf(story),
      images,
      audio,
      percentage: storyPercentage(story, { images, audio }),
      narrationUrl: story.narrationKey && story.mergeStep === 'completed' ? storyUrls.narration(story.id) : null,
      fallbacks: fallbacks ?? [],
    })),
    fallbackUsed: inputs.some(({ fallbacks }) => (fallbacks?.length ?? 0) > 0),
    createdAt: batch.createdAt,
    startedAt: batch.startedAt,
    completedAt: batch.completedAt,
  };
}

/** The answer of POST /stories/batch-create: the batch, where to follow it, and each story with its file's name. */
export function mapBatchCreated(batch: BatchJob, stories: Story[], fileNames: Map<string, string>): BatchCreatedDto {
  const withFiles = stories.filter((story) => story.uploadId !== null);
  return {
    batchId: batch.id,
    status: batch.status,
    totalFiles: batch.totalFiles,
    statusUrl: `/stories/batch/${batch.id}/status`,
    room: batchRoom(batch.id),
    stories: withFiles.map((story) => ({
      id: story.id,
      uploadId: story.uploadId!,
      file: fileNames.get(story.uploadId!) ?? story.title ?? story.id,
      room: storyRoom(story.id),
    })),
  };
}
