import fs from 'node:fs/promises';
import path from 'node:path';
import { Injectable } from '@nestjs/common';
import type { AudioChunk, BatchJob, Story } from '../db/schema.js';
import { BatchRepository } from '../repositories/batch.repository.js';
import { artifactKeys, StorageRepository } from '../repositories/storage.repository.js';
import { STEP_COLUMN, StoryRepository } from '../repositories/story.repository.js';
import { UploadRepository } from '../repositories/upload.repository.js';
import { STEPS } from '../db/schema.js';

/** What `story.json` holds: the story, its steps, metadata, chunks and artifact paths. */
export interface StoryDocument {
  id: string;
  title: string | null;
  sourceFile: string | null;
  language: string | null;
  status: Story['status'];
  error: string | null;
  failedStep: Story['failedStep'];
  steps: Record<string, string>;
  style: Story['style'];
  customPrompt: string | null;
  metadata: Story['metadata'];
  narration: { file: string; durationMs?: number } | null;
  /** Sentence subtitles timed on the narration, in the written form. */
  subtitles: { srt: string; vtt: string; cues?: number; wordsVtt?: string } | null;
  video: { file: string; preset?: string; width?: number; height?: number; durationMs?: number; introMs?: number } | null;
  /** The video's sound when it is more than the narration (music, title card): its file, loudness and music. */
  soundtrack: ({ file: string } & NonNullable<Story['metadata']['soundtrack']>) | null;
  /** The first image with the title, sized for the video's shape. */
  thumbnail: { file: string; width: number; height: number } | null;
  images: { index: number; file: string | null; text: string; prompt: string; placeholder: boolean; provider: string | null; model: string | null }[];
  audio: {
    index: number; file: string | null; text: string; spokenText: string; durationMs: number | null; provider: string | null; model: string | null; voice: string | null;
    /** When each word is spoken, clip-relative ms, from the provider or estimated (`source`). */
    words: AudioChunk['words'];
  }[];
}

/** One file of a story's folder: its path in the folder, and its stored key or its text. */
export type StoryFileEntry = { path: string; key: string } | { path: string; content: string };

/**
 * Writes finished stories out of storage into a folder a person can open: one folder per story
 * with story.md, story.json, images/NNN.png, audio/NNN.wav, narration.mp3, subtitles.srt,
 * subtitles.vtt, video.mp4, soundtrack.mp3 and thumbnail.jpg, plus batch.json. {@link storyFiles} lists a story's files, for
 * the folder and for the ZIP package alike.
 */
@Injectable()
export class ExportService {
  constructor(
    private readonly batches: BatchRepository,
    private readonly stories: StoryRepository,
    private readonly uploads: UploadRepository,
    private readonly storage: StorageRepository,
  ) {}

  /**
   * Exports every story of a batch under `outDir/<input file name>/`.
   * @param used folder names already taken in `outDir` (shared when several batches go there).
   * @returns the batch summary for batch.json, each result with its folder relative to `outDir`.
   */
  async exportBatch(batchId: string, outDir: string, used = new Set<string>()): Promise<BatchDocument> {
    const batch = await this.batches.get(batchId);
    if (!batch) throw new Error(`Batch ${batchId} does not exist`);
    const folders = new Map<string, string>();
    for (const story of await this.stories.listByBatch(batchId)) {
      const upload = story.uploadId ? await this.uploads.get(story.uploadId) : undefined;
      const base = folderName(upload?.originalName ?? story.title ?? story.id);
      let name = base;
      // A folder that is taken in this run, or that exists and was not written by an export, gets
      // a numbered name: an export never deletes what it did not create.
      for (let n = 2; used.has(name) || !(await isOwnOrAbsent(path.join(outDir, name))); n++) name = `${base}-${n}`;
      used.add(name);
      const folder = path.join(outDir, name);
      await this.exportStory(story, folder, upload?.originalName ?? null);
      folders.set(story.id, folder);
    }
    return batchDocument(batch, folders, outDir);
  }

  /** Writes one story's folder, replacing what an earlier export left there. */
  async exportStory(story: Story, folder: string, sourceFile: string | null): Promise<StoryDocument> {
    if (!(await isOwnOrAbsent(folder))) {
      throw new Error(`${folder} exists and was not written by storyforge; choose another output folder`);
    }
    await fs.rm(folder, { recursive: true, force: true });
    await fs.mkdir(folder, { recursive: true });
    await fs.writeFile(path.join(folder, EXPORT_MARKER), 'Written by storyforge; the folder is replaced when the story is exported again.\n');
    const { doc, files } = await this.storyFiles(story, sourceFile);
    for (const file of files) {
      const target = path.join(folder, ...file.path.split('/'));
      await fs.mkdir(path.dirname(target), { recursive: true });
      if ('key' in file) await this.storage.copyToFile(file.key, target);
      else await fs.writeFile(target, file.content);
    }
    return doc;
  }

  /**
   * The files of a story's folder (only those that exist): story.md, story.json, images/,
   * audio/, narration.mp3, subtitles.srt, subtitles.vtt, subtitles.words.vtt, video.mp4,
   * soundtrack.mp3, thumbnail.jpg; and story.json's content.
   */
  async storyFiles(story: Story, sourceFile: string | null): Promise<{ doc: StoryDocument; files: StoryFileEntry[] }> {
    // Chunks of a step that was not asked for are left out (they exist for a later manual start).
    const images = story.imagesStep === 'skipped' ? [] : await this.stories.imageChunks(story.id);
    const audio = story.audioStep === 'skipped' ? [] : await this.stories.audioChunks(story.id);
    const files: StoryFileEntry[] = [];
    const copy = async (key: string | null, relative: string): Promise<string | null> => {
      if (!key || !(await this.storage.exists(key))) return null;
      files.push({ path: relative, key });
      return relative;
    };
    const doc: StoryDocument = {
      id: story.id,
      title: story.title,
      sourceFile,
      language: story.language,
      status: story.status,
      error: story.error,
      failedStep: story.failedStep,
      steps: Object.fromEntries(STEPS.map((step) => [step, story[STEP_COLUMN[step]]])),
      style: story.style,
      customPrompt: story.customPrompt,
      metadata: story.metadata,
      narration: null,
      subtitles: null,
      video: null,
      soundtrack: null,
      thumbnail: null,
      images: [],
      audio: [],
    };
    for (const chunk of images) {
      const file = await copy(chunk.storageKey, chunk.storageKey ? `images/${path.basename(chunk.storageKey)}` : '');
      doc.images.push({ index: chunk.index, file, text: chunk.text, prompt: chunk.prompt, placeholder: chunk.placeholder, provider: chunk.provider, model: chunk.model });
    }
    for (const chunk of audio) {
      const file = await copy(chunk.storageKey, chunk.storageKey ? `audio/${path.basename(chunk.storageKey)}` : '');
      doc.audio.push({ index: chunk.index, file, text: chunk.text, spokenText: chunk.spokenText, durationMs: chunk.durationMs, provider: chunk.provider, model: chunk.model, voice: chunk.voice, words: chunk.words });
    }
    const narration = await copy(story.narrationKey, 'narration.mp3');
    if (narration) doc.narration = { file: narration, durationMs: story.metadata.narration?.durationMs };
    const srt = await copy(story.subtitlesKey, 'subtitles.srt');
    const vtt = await copy(story.subtitlesKey ? artifactKeys.subtitles(story.id, 'vtt') : null, 'subtitles.vtt');
    const wordsVtt = story.subtitlesKey ? await copy(artifactKeys.wordSubtitles(story.id), 'subtitles.words.vtt') : null;
    if (srt && vtt) doc.subtitles = { srt, vtt, cues: story.metadata.subtitles?.cues, ...(wordsVtt ? { wordsVtt } : {}) };
    const video = story.videoStep === 'completed' ? await copy(story.videoKey, 'video.mp4') : null;
    if (video) {
      const meta = story.metadata.video;
      doc.video = { file: video, preset: meta?.preset, width: meta?.width, height: meta?.height, durationMs: meta?.durationMs, introMs: meta?.introMs };
      const { soundtrack, thumbnail } = story.metadata;
      const soundtrackFile = soundtrack ? await copy(artifactKeys.soundtrack(story.id), 'soundtrack.mp3') : null;
      if (soundtrack && soundtrackFile) doc.soundtrack = { file: soundtrackFile, ...soundtrack };
      const thumbnailFile = thumbnail ? await copy(artifactKeys.thumbnail(story.id), 'thumbnail.jpg') : null;
      if (thumbnail && thumbnailFile) doc.thumbnail = { file: thumbnailFile, ...thumbnail };
    }
    if (story.generatedContent !== null) {
      files.unshift({ path: 'story.md', content: `# ${story.title ?? 'Untitled story'}\n\n${story.generatedContent}\n` });
    }
    files.splice(story.generatedContent !== null ? 1 : 0, 0, { path: 'story.json', content: `${JSON.stringify(doc, null, 2)}\n` });
    return { doc, files };
  }
}

/** File that marks a story folder as written by an export (and so safe to replace). */
const EXPORT_MARKER = '.storyforge-export';

/** True when `folder` does not exist or holds the export marker. */
async function isOwnOrAbsent(folder: string): Promise<boolean> {
  try {
    await fs.access(path.join(folder, EXPORT_MARKER));
    return true;
  } catch {
    try {
      await fs.lstat(folder);
      return false;
    } catch {
      return true;
    }
  }
}

/** A safe folder name from a file name: extension dropped, only letters, digits, `-`, `_` and `.`. */
export function folderName(fileName: string): string {
  const base = path.basename(fileName).replace(/\.(txt|docx?|md)$/i, '').normalize('NFC');
  const safe = base.replace(/[^\p{L}\p{N}_.-]+/gu, '-').replace(/^[-.]+|[-.]+$/g, '');
  return safe.slice(0, 80) || 'story';
}

export type BatchDocument = ReturnType<typeof batchDocument>;

function batchDocument(batch: BatchJob, folders: Map<string, string>, outDir: string) {
  return {
    id: batch.id,
    status: batch.status,
    totalFiles: batch.totalFiles,
    processedFiles: batch.processedFiles,
    failedFiles: batch.failedFiles,
    settings: batch.settings,
    progress: batch.progress,
    startedAt: batch.startedAt,
    completedAt: batch.completedAt,
    results: batch.results.map((result) => ({
      ...result,
      folder: folders.has(result.storyId) ? path.relative(outDir, folders.get(result.storyId)!) : null,
    })),
  };
}
