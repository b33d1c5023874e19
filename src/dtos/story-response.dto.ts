import { ApiProperty } from '@nestjs/swagger';
import {
  type AudioChunk,
  type ImageChunk,
  STEPS,
  type StepName,
  type StepStatus,
  stepStatus,
  type Story,
  storyStatus,
} from '../db/schema.js';
import { STEP_COLUMN, type StoryProgressRow } from '../repositories/story.repository.js';
import { storyFraction } from './batch-progress.js';
import { AutoModeConfigDto, StoryStyleDto } from './story.dto.js';

/** Download addresses of a story's files (relative to the API). */
export const storyUrls = {
  story: (id: string) => `/stories/${id}`,
  narration: (id: string) => `/stories/${id}/narration`,
  image: (id: string, index: number) => `/stories/${id}/images/${index}`,
  clip: (id: string, index: number) => `/stories/${id}/audio/${index}`,
  imagesZip: (id: string) => `/stories/${id}/images.zip`,
  video: (id: string) => `/stories/${id}/video`,
  soundtrack: (id: string) => `/stories/${id}/soundtrack`,
  thumbnail: (id: string) => `/stories/${id}/thumbnail.jpg`,
  subtitles: (id: string, format: 'srt' | 'vtt') => `/stories/${id}/subtitles.${format}`,
  package: (id: string) => `/stories/${id}/package`,
};

/** State of each step of a story (`skipped` = not requested). One property per pipeline step. */
export class StoryStepsDto {}
for (const step of STEPS) {
  ApiProperty({ description: `State of the \`${step}\` step`, enum: stepStatus.enumValues, example: 'completed' })(StoryStepsDto.prototype, step);
}
export type StoryStepsView = Record<StepName, StepStatus>;

export class ChunkCountDto {
  @ApiProperty({ description: 'Chunks finished', example: 3 })
  done!: number;

  @ApiProperty({ description: 'Chunks in all (0 until the story step has cut them)', example: 8 })
  total!: number;
}

export class StoryProgressDto {
  @ApiProperty({ description: 'Share of the requested work that is finished, 0–100 (each requested step weighs the same; images and audio count finished chunks)', example: 62 })
  percentage!: number;

  @ApiProperty({ description: 'Image chunks', type: ChunkCountDto })
  images!: ChunkCountDto;

  @ApiProperty({ description: 'Audio chunks', type: ChunkCountDto })
  audio!: ChunkCountDto;
}

export class StoryDto {
  @ApiProperty({ description: 'Story id', example: '5a7c9e1b-2d4f-4a6c-8e0b-1c3d5e7f9a2b', format: 'uuid' })
  id!: string;

  @ApiProperty({ description: 'Batch the story belongs to, or null', example: '2f4e6a8c-1b3d-4f5a-9c7e-0a2b4c6d8e1f', nullable: true, type: String })
  batchId!: string | null;

  @ApiProperty({ description: 'Upload the story was made from, or null (text stories)', example: '7c1e2b4a-9d3f-4e5a-8b6c-1d2e3f4a5b6c', nullable: true, type: String })
  uploadId!: string | null;

  @ApiProperty({ description: 'Title (set by the story step)', example: 'Sự tích Hồ Ba Bể', nullable: true, type: String })
  title!: string | null;

  @ApiProperty({ description: 'Story status', enum: storyStatus.enumValues, example: 'processing' })
  status!: Story['status'];

  @ApiProperty({ description: 'ISO 639-1 language (given, or detected by the story step)', example: 'vi', nullable: true, type: String })
  language!: string | null;

  @ApiProperty({ description: 'State of each step', type: StoryStepsDto })
  steps!: StoryStepsView;

  @ApiProperty({ description: 'How far the story is', type: StoryProgressDto })
  progress!: StoryProgressDto;

  @ApiProperty({ description: 'The step that failed, when status is failed', example: 'audio', nullable: true, enum: STEPS, type: String })
  failedStep!: StepName | null;

  @ApiProperty({ description: 'The last step, in pipeline order, that completed, or null (images and audio run side by side, so an earlier step may have failed; a retry keeps every completed step)', example: 'images', nullable: true, enum: STEPS, type: String })
  lastCompletedStep!: StepName | null;

  @ApiProperty({ description: 'Why it failed, when status is failed', example: 'No espeak-ng voice for language "xx"', nullable: true, type: String })
  error!: string | null;

  @ApiProperty({ description: 'Download address of narration.mp3 once merged, else null', example: '/stories/5a7c9e1b-2d4f-4a6c-8e0b-1c3d5e7f9a2b/narration', nullable: true, type: String })
  narrationUrl!: string | null;

  @ApiProperty({ description: 'Download address of subtitles.srt once merged, else null', example: '/stories/5a7c9e1b-2d4f-4a6c-8e0b-1c3d5e7f9a2b/subtitles.srt', nullable: true, type: String })
  subtitlesSrtUrl!: string | null;

  @ApiProperty({ description: 'Download address of subtitles.vtt once merged, else null', example: '/stories/5a7c9e1b-2d4f-4a6c-8e0b-1c3d5e7f9a2b/subtitles.vtt', nullable: true, type: String })
  subtitlesVttUrl!: string | null;

  @ApiProperty({ description: 'Download address of video.mp4 once rendered (autoMode.renderVideo), else null', example: '/stories/5a7c9e1b-2d4f-4a6c-8e0b-1c3d5e7f9a2b/video', nullable: true, type: String })
  videoUrl!: string | null;

  @ApiProperty({ description: 'Download address of soundtrack.mp3, the video\'s sound (narration after the title card, music ducked under it), once rendered with music or a title card, else null', example: '/stories/5a7c9e1b-2d4f-4a6c-8e0b-1c3d5e7f9a2b/soundtrack', nullable: true, type: String })
  soundtrackUrl!: string | null;

  @ApiProperty({ description: 'Download address of thumbnail.jpg (the first image with the title; 1280×720 for 16:9 videos, 1080×1920 for 9:16) once the video is rendered, else null', example: '/stories/5a7c9e1b-2d4f-4a6c-8e0b-1c3d5e7f9a2b/thumbnail.jpg', nullable: true, type: String })
  thumbnailUrl!: string | null;

  @ApiProperty({ description: 'Download address of the whole story as one ZIP (what is finished so far)', example: '/stories/5a7c9e1b-2d4f-4a6c-8e0b-1c3d5e7f9a2b/package' })
  packageUrl!: string;

  @ApiProperty({ description: 'When the story was made', example: '2026-01-31T09:12:44.120Z' })
  createdAt!: Date;

  @ApiProperty({ description: 'When its first step started', example: '2026-01-31T09:12:45.010Z', nullable: true, type: Date })
  startedAt!: Date | null;

  @ApiProperty({ description: 'When it completed or failed', example: '2026-01-31T09:13:30.500Z', nullable: true, type: Date })
  completedAt!: Date | null;
}

export class ImageChunkDto {
  @ApiProperty({ description: 'Chunk id (POST /images/chunks/:id/regenerate makes the image again)', example: '0b6c1d2e-3f4a-4b5c-8d6e-7f8a9b0c1d2e', format: 'uuid' })
  id!: string;

  @ApiProperty({ description: 'Position in the story, from 0', example: 0 })
  index!: number;

  @ApiProperty({ description: 'The part of the story the image illustrates', example: 'Ngày xửa ngày xưa…' })
  text!: string;

  @ApiProperty({ description: 'Prompt given to the image generator', example: 'A village by a lake at dusk' })
  prompt!: string;

  @ApiProperty({ description: 'Chunk status', enum: ['pending', 'completed', 'failed'], example: 'completed' })
  status!: ImageChunk['status'];

  @ApiProperty({ description: 'Download address of the image once made, else null', example: '/stories/5a7c9e1b-2d4f-4a6c-8e0b-1c3d5e7f9a2b/images/0', nullable: true, type: String })
  url!: string | null;

  @ApiProperty({ description: 'True when the image is a stand-in card (offline `card` generator)', example: true })
  placeholder!: boolean;

  @ApiProperty({ description: 'Provider that made it (a fallback when not the chosen one), once made', example: 'comfyui', nullable: true, type: String })
  provider!: string | null;

  @ApiProperty({ description: 'Model that made it, once made', example: 'sd_xl_base_1.0.safetensors', nullable: true, type: String })
  model!: string | null;
}

export class AudioChunkDto {
  @ApiProperty({ description: 'Chunk id (POST /audio/chunks/:id/regenerate makes the clip again, then the narration)', example: '1c7d2e3f-4a5b-4c6d-9e7f-8a9b0c1d2e3f', format: 'uuid' })
  id!: string;

  @ApiProperty({ description: 'Position in the story, from 0', example: 0 })
  index!: number;

  @ApiProperty({ description: 'The part of the story the clip narrates', example: 'Ngày xửa ngày xưa…' })
  text!: string;

  @ApiProperty({ description: 'Chunk status', enum: ['pending', 'completed', 'failed'], example: 'completed' })
  status!: AudioChunk['status'];

  @ApiProperty({ description: 'Download address of the clip once made, else null', example: '/stories/5a7c9e1b-2d4f-4a6c-8e0b-1c3d5e7f9a2b/audio/0', nullable: true, type: String })
  url!: string | null;

  @ApiProperty({ description: 'Decoded length of the clip, ms', example: 5230, nullable: true, type: Number })
  durationMs!: number | null;

  @ApiProperty({ description: 'Voice used', example: 'vi', nullable: true, type: String })
  voice!: string | null;

  @ApiProperty({ description: 'Provider that made it (a fallback when not the chosen one), once made', example: 'edge', nullable: true, type: String })
  provider!: string | null;

  @ApiProperty({ description: 'Model that made it, once made', example: 'edge-read-aloud', nullable: true, type: String })
  model!: string | null;
}

export class StoryDetailDto extends StoryDto {
  @ApiProperty({ description: 'Providers chosen for this story (`provider[:model][:voice]`); absent ones are the server defaults', example: { speech: 'edge:vi-VN-HoaiMyNeural' } })
  providers!: { writer?: string; images?: string; speech?: string };

  @ApiProperty({ description: 'The text the story was made from', example: 'Sự tích Hồ Ba Bể\n\nNgày xửa ngày xưa…' })
  originalContent!: string;

  @ApiProperty({ description: 'The story text (after the story step), else null', example: 'Ngày xửa ngày xưa…', nullable: true, type: String })
  content!: string | null;

  @ApiProperty({ description: 'Style asked for', type: StoryStyleDto })
  style!: StoryStyleDto;

  @ApiProperty({ description: 'Instructions for the story writer', example: 'Retell it for a bedtime read-aloud', nullable: true, type: String })
  customPrompt!: string | null;

  @ApiProperty({ description: 'Auto-mode settings of the story (every field filled)', type: AutoModeConfigDto })
  autoMode!: AutoModeConfigDto;

  @ApiProperty({
    description: 'Metadata: word counts, how the language was chosen, providers and models, step durations (ms), narration loudness',
    type: 'object',
    additionalProperties: true,
    example: { wordCount: 573, languageSource: 'detected', narration: { durationMs: 212000, lufs: -16 } },
  })
  metadata!: Story['metadata'];

  @ApiProperty({ description: 'Image chunks in order', type: [ImageChunkDto] })
  images!: ImageChunkDto[];

  @ApiProperty({ description: 'Audio chunks in order', type: [AudioChunkDto] })
  audio!: AudioChunkDto[];

  @ApiProperty({ description: 'Download address of every finished image as one ZIP, or null when there is none', example: '/stories/5a7c9e1b-2d4f-4a6c-8e0b-1c3d5e7f9a2b/images.zip', nullable: true, type: String })
  imagesZipUrl!: string | null;
}

export class StoryPageDto {
  @ApiProperty({ description: 'Stories on this page, newest first', type: [StoryDto] })
  items!: StoryDto[];

  @ApiProperty({ description: 'Page number', example: 1 })
  page!: number;

  @ApiProperty({ description: 'Items per page', example: 20 })
  limit!: number;

  @ApiProperty({ description: 'Stories matching in all', example: 3 })
  total!: number;
}

export interface ChunkCounts {
  images: { done: number; total: number };
  audio: { done: number; total: number };
}

/** Each step's state, by step name. */
export function stepsOf(story: StoryProgressRow): StoryStepsView {
  return Object.fromEntries(STEPS.map((step) => [step, story[STEP_COLUMN[step]]])) as StoryStepsView;
}

/** Story share of finished work, 0–100 (floor), from its steps and chunk counts. */
export function storyPercentage(story: StoryProgressRow, counts: ChunkCounts): number {
  return Math.floor(storyFraction({ story, fileName: '', ...counts }) * 100);
}

/** The subtitles' addresses: both once the merge step wrote them, else null. */
function subtitleUrls(story: Story): { subtitlesSrtUrl: string | null; subtitlesVttUrl: string | null } {
  const ready = !!story.subtitlesKey && story.mergeStep === 'completed';
  return { subtitlesSrtUrl: ready ? storyUrls.subtitles(story.id, 'srt') : null, subtitlesVttUrl: ready ? storyUrls.subtitles(story.id, 'vtt') : null };
}

/** The addresses of the files made with the video: soundtrack.mp3 (when the video has more than the narration) and thumbnail.jpg. */
function presentationUrls(story: Story): { soundtrackUrl: string | null; thumbnailUrl: string | null } {
  const rendered = !!story.videoKey && story.videoStep === 'completed';
  return {
    soundtrackUrl: rendered && story.metadata.soundtrack ? storyUrls.soundtrack(story.id) : null,
    thumbnailUrl: rendered && story.metadata.thumbnail ? storyUrls.thumbnail(story.id) : null,
  };
}

/** A story as lists show it: status, steps, progress and the download addresses (narration, subtitles, video, package). */
export function mapStory(story: Story, counts: ChunkCounts): StoryDto {
  return {
    id: story.id,
    batchId: story.batchId,
    uploadId: story.uploadId,
    title: story.title,
    status: story.status,
    language: story.language,
    steps: stepsOf(story),
    progress: { percentage: storyPercentage(story, counts), images: counts.images, audio: counts.audio },
    failedStep: story.failedStep,
    lastCompletedStep: STEPS.findLast((step) => story[STEP_COLUMN[step]] === 'completed') ?? null,
    error: story.error,
    narrationUrl: story.narrationKey && story.mergeStep === 'completed' ? storyUrls.narration(story.id) : null,
    ...subtitleUrls(story),
    videoUrl: story.videoKey && story.videoStep === 'completed' ? storyUrls.video(story.id) : null,
    ...presentationUrls(story),
    packageUrl: storyUrls.package(story.id),
    createdAt: story.createdAt,
    startedAt: story.startedAt,
    completedAt: story.completedAt,
  };
}

/** A story with its text, settings, metadata, chunks and file addresses (only finished files get one). */
export function mapStoryDetail(story: Story, images: ImageChunk[], audio: AudioChunk[]): StoryDetailDto {
  const count = (chunks: { status: string }[]) => ({ done: chunks.filter((c) => c.status === 'completed').length, total: chunks.length });
  const done = (chunk: { status: string; storageKey: string | null }) => chunk.status === 'completed' && !!chunk.storageKey;
  return {
    ...mapStory(story, { images: count(images), audio: count(audio) }),
    originalContent: story.originalContent,
    content: story.generatedContent,
    style: story.style,
    customPrompt: story.customPrompt,
    autoMode: story.autoMode,
    providers: story.providers,
    metadata: story.metadata,
    images: images.map((chunk) => ({
      id: chunk.id,
      index: chunk.index,
      text: chunk.text,
      prompt: chunk.prompt,
      status: chunk.status,
      url: done(chunk) ? storyUrls.image(story.id, chunk.index) : null,
      placeholder: chunk.placeholder,
      provider: chunk.provider,
      model: chunk.model,
    })),
    audio: audio.map((chunk) => ({
      id: chunk.id,
      index: chunk.index,
      text: chunk.text,
      status: chunk.status,
      url: done(chunk) ? storyUrls.clip(story.id, chunk.index) : null,
      durationMs: chunk.durationMs,
      voice: chunk.voice,
      provider: chunk.provider,
      model: chunk.model,
    })),
    imagesZipUrl: images.some(done) ? storyUrls.imagesZip(story.id) : null,
  };
}
