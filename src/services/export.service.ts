import fs from 'node:fs/promises';
import path from 'node:path';
import { Injectable } from '@nestjs/common';
import type { BatchJob, Story } from '../db/schema.js';
import { BatchRepository } from '../repositories/batch.repository.js';
import { StorageRepository } from '../repositories/storage.repository.js';
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
  images: { index: number; file: string | null; text: string; prompt: string; placeholder: boolean; model: string | null }[];
  audio: { index: number; file: string | null; text: string; spokenText: string; durationMs: number | null; voice: string | null }[];
}

/**
 * Writes finished stories out of storage into a folder a person can open: one folder per story
 * with story.md, story.json, images/NNN.png, audio/NNN.wav and narration.mp3, plus batch.json.
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
      let name = folderName(upload?.originalName ?? story.title ?? story.id);
      for (let n = 2; used.has(name); n++) name = `${folderName(upload?.originalName ?? story.id)}-${n}`;
      used.add(name);
      const folder = path.join(outDir, name);
      await this.exportStory(story, folder, upload?.originalName ?? null);
      folders.set(story.id, folder);
    }
    return batchDocument(batch, folders, outDir);
  }

  /** Writes one story's folder, replacing what an earlier export left there. */
  async exportStory(story: Story, folder: string, sourceFile: string | null): Promise<StoryDocument> {
    await fs.rm(folder, { recursive: true, force: true });
    await fs.mkdir(folder, { recursive: true });
    const images = await this.stories.imageChunks(story.id);
    const audio = await this.stories.audioChunks(story.id);
    const copy = async (key: string | null, relative: string): Promise<string | null> => {
      if (!key || !(await this.storage.exists(key))) return null;
      await fs.mkdir(path.dirname(path.join(folder, relative)), { recursive: true });
      await fs.copyFile(this.storage.pathOf(key), path.join(folder, relative));
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
      images: [],
      audio: [],
    };
    for (const chunk of images) {
      const file = await copy(chunk.storageKey, chunk.storageKey ? `images/${path.basename(chunk.storageKey)}` : '');
      doc.images.push({ index: chunk.index, file, text: chunk.text, prompt: chunk.prompt, placeholder: chunk.placeholder, model: chunk.model });
    }
    for (const chunk of audio) {
      const file = await copy(chunk.storageKey, chunk.storageKey ? `audio/${path.basename(chunk.storageKey)}` : '');
      doc.audio.push({ index: chunk.index, file, text: chunk.text, spokenText: chunk.spokenText, durationMs: chunk.durationMs, voice: chunk.voice });
    }
    const narration = await copy(story.narrationKey, 'narration.mp3');
    if (narration) doc.narration = { file: narration, durationMs: story.metadata.narration?.durationMs };
    if (story.generatedContent !== null) {
      await fs.writeFile(path.join(folder, 'story.md'), `# ${story.title ?? 'Untitled story'}\n\n${story.generatedContent}\n`);
    }
    await fs.writeFile(path.join(folder, 'story.json'), `${JSON.stringify(doc, null, 2)}\n`);
    return doc;
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
