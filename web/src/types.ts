/** Shapes of the API answers the page reads (see docs/api.md). */

export type StepName = 'story' | 'images' | 'audio' | 'merge' | 'video';
export type StepState = 'pending' | 'queued' | 'running' | 'completed' | 'failed' | 'skipped' | 'cancelled';
export const STEP_NAMES: StepName[] = ['story', 'images', 'audio', 'merge', 'video'];

export interface ChunkCount {
  done: number;
  total: number;
}

export interface Upload {
  id: string;
  url: string;
  name: string;
  size: number;
  format: string;
  encoding: string | null;
  wordCount: number;
}

export interface BatchStory {
  storyId: string;
  file: string;
  title: string | null;
  status: string;
  steps: Record<StepName, StepState>;
  images: ChunkCount;
  audio: ChunkCount;
  percentage: number;
  narrationUrl: string | null;
}

export interface BatchStatus {
  id: string;
  status: string;
  totalFiles: number;
  processedFiles: number;
  failedFiles: number;
  progress: { percentage: number; currentFile?: string; currentStep?: string };
  results: { file: string; storyId: string; status: string; failedStep?: string; error?: string }[];
  stories: BatchStory[];
  createdAt: string;
  completedAt: string | null;
}

export interface BatchListItem {
  id: string;
  status: string;
  totalFiles: number;
  processedFiles: number;
  failedFiles: number;
  percentage: number;
  files: string[];
  createdAt: string;
  completedAt: string | null;
}

export interface Page<T> {
  items: T[];
  page: number;
  limit: number;
  total: number;
}

export interface ImageChunk {
  id: string;
  index: number;
  text: string;
  status: string;
  url: string | null;
  placeholder: boolean;
}

export interface AudioChunk {
  id: string;
  index: number;
  text: string;
  status: string;
  url: string | null;
  durationMs: number | null;
}

export interface StoryDetail {
  id: string;
  batchId: string | null;
  title: string | null;
  status: string;
  language: string | null;
  steps: Record<StepName, StepState>;
  progress: { percentage: number; images: ChunkCount; audio: ChunkCount };
  failedStep: StepName | null;
  error: string | null;
  narrationUrl: string | null;
  content: string | null;
  originalContent: string;
  images: ImageChunk[];
  audio: AudioChunk[];
  imagesZipUrl: string | null;
  /** Added by the video routes; absent on servers without them. */
  videoUrl?: string | null;
  subtitlesSrtUrl?: string | null;
  subtitlesVttUrl?: string | null;
  /** The video's sound when it has music or a title card, and its thumbnail. */
  soundtrackUrl?: string | null;
  thumbnailUrl?: string | null;
  /** Story metadata; `video.introMs` is the title card's length (the subtitles start that much later in the video). */
  metadata?: { video?: { introMs?: number } };
  packageUrl?: string | null;
  createdAt: string;
}

export interface ProviderInfo {
  name: string;
  configured: boolean;
  default: boolean;
  models?: string[];
}

export interface Providers {
  writers: ProviderInfo[];
  images: ProviderInfo[];
  speech: ProviderInfo[];
}

export interface Voice {
  provider: string;
  id: string;
  name: string;
  language: string;
  gender?: string;
}
