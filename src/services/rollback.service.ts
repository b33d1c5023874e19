import { Injectable, Logger } from '@nestjs/common';
import type { StepName } from '../db/schema.js';
import { artifactKeys, StorageRepository } from '../repositories/storage.repository.js';
import { StoryRepository } from '../repositories/story.repository.js';

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
  async rollbackStep(storyId: string, step: StepName): Promise<number> {
    let removed = 0;
    switch (step) {
      case 'images':
      case 'audio':
        removed = await this.unfinishedChunkFiles(storyId, step);
        break;
      case 'merge':
        removed = await this.removeKeys([artifactKeys.narration(storyId), artifactKeys.subtitles(storyId, 'srt'), artifactKeys.subtitles(storyId, 'vtt'), artifactKeys.wordSubtitles(storyId)]);
        await this.stories.update(storyId, { narrationKey: null, subtitlesKey: null });
        break;
      case 'video':
        removed = await this.removeKeys([artifactKeys.video(storyId), artifactKeys.soundtrack(storyId), artifactKeys.thumbnail(storyId)]);
        await this.stories.update(storyId, { videoKey: null });
        break;
      case 'story':
        // The story step writes its chunks in one transaction at its end: nothing is ever half-written.
        break;
    }
    removed += await this.removePartialFiles(storyId);
    if (removed) this.logger.log(`Story ${storyId}: removed ${removed} unfinished file(s) of the ${step} step`);
    return removed;
  }

  /** Removes the temporary `.part` files a killed process left in the story's folders. */
  async removePartialFiles(storyId: string): Promise<number> {
    const folders = [artifactKeys.story(storyId), artifactKeys.imagesFolder(storyId), artifactKeys.audioFolder(storyId)];
    const counts = await Promise.all(folders.map((folder) => this.storage.removePartial(folder)));
    return counts.reduce((sum, n) => sum + n, 0);
  }

  /** Keeps exactly the files of finished chunks in the step's folder; removes every other file. */
  private async unfinishedChunkFiles(storyId: string, step: 'images' | 'audio'): Promise<number> {
    const chunks = step === 'images' ? await this.stories.imageChunks(storyId) : await this.stories.audioChunks(storyId);
    const keep = new Set(chunks.filter((chunk) => chunk.status === 'completed' && chunk.storageKey).map((chunk) => chunk.storageKey!));
    const folder = step === 'images' ? artifactKeys.imagesFolder(storyId) : artifactKeys.audioFolder(storyId);
    const stray = (await this.storage.list(folder)).filter((key) => !keep.has(key));
    for (const chunk of chunks) {
      if (chunk.status === 'completed' || !chunk.storageKey) continue;
      if (step === 'images') await this.stories.updateImageChunk(chunk.id, { storageKey: null });
      else await this.stories.updateAudioChunk(chunk.id, { storageKey: null });
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
