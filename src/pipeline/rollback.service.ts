import { Injectable, Logger } from '@nestjs/common';
import type { StepName } from '../db/schema.js';
import { artifactKeys, StorageRepository } from '../repositories/storage.repository.js';
import { type ChunkKind, StoryRepository } from '../repositories/story.repository.js';
import { isChunkStep, pipelineStep } from './catalog.js';

/** Chunk kind → the folder its files go in. */
const CHUNK_FOLDER: Record<ChunkKind, (storyId: string) => string> = { images: artifactKeys.imagesFolder, audio: artifactKeys.audioFolder };

/**
 * Rollback of a step that failed for good: the files it wrote without finishing are removed and
 * their keys cleared, so that the story shows only finished work and a retry starts clean.
 * Finished chunks keep their files (a retry skips them). Every call is idempotent: rolling back
 * twice removes nothing more.
 */
@Injectable()
export class RollbackService {
  private readonly logger = new Logger('Rollback');

  constructor(
    private readonly stories: StoryRepository,
    private readonly storage: StorageRepository,
  ) {}

  /**
   * Removes what `step` left half-done on the story.
   * @returns how many files were removed.
   */
  async rollbackStep(storyId: string, name: StepName): Promise<number> {
    const step = pipelineStep(name);
    let removed: number;
    if (isChunkStep(step)) {
      removed = await this.unfinishedChunkFiles(storyId, step.chunks);
    } else {
      removed = await this.removeKeys(step.artifacts.keys(storyId));
      if (step.artifacts.columns.length) await this.stories.update(storyId, Object.fromEntries(step.artifacts.columns.map((column) => [column, null])));
    }
    removed += await this.removePartialFiles(storyId);
    if (removed) this.logger.log(`Story ${storyId}: removed ${removed} unfinished file(s) of the ${name} step`);
    return removed;
  }

  /** Removes the temporary `.part` files a killed process left in the story's folders. */
  async removePartialFiles(storyId: string): Promise<number> {
    const folders = [artifactKeys.story(storyId), ...Object.values(CHUNK_FOLDER).map((folder) => folder(storyId))];
    const counts = await Promise.all(folders.map((folder) => this.storage.removePartial(folder)));
    return counts.reduce((sum, n) => sum + n, 0);
  }

  /** Keeps exactly the files of finished chunks in the step's folder; removes every other file. */
  private async unfinishedChunkFiles(storyId: string, kind: ChunkKind): Promise<number> {
    const chunks = await this.stories.chunks(kind, storyId);
    const keep = new Set(chunks.filter((chunk) => chunk.status === 'completed' && chunk.storageKey).map((chunk) => chunk.storageKey!));
    const stray = (await this.storage.list(CHUNK_FOLDER[kind](storyId))).filter((key) => !keep.has(key));
    for (const chunk of chunks) {
      if (chunk.status === 'completed' || !chunk.storageKey) continue;
      await this.stories.updateChunk(kind, chunk.id, { storageKey: null });
    }
    return this.removeKeys(stray);
  }

  private async removeKeys(keys: string[]): Promise<number> {
    let removed = 0;
    for (const key of keys) {
      if (await this.storage.exists(key)) {
        await this.storage.remove(key);
        removed += 1;
      }
    }
    return removed;
  }
}
