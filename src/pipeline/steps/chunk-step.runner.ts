import { Injectable } from '@nestjs/common';
import type { StepName } from '../../db/schema.js';
import { EventsRepository } from '../../repositories/events.repository.js';
import { artifactKeys, StorageRepository } from '../../repositories/storage.repository.js';
import { type ChunkKind, STEP_COLUMN, StoryRepository, storyHasEnded } from '../../repositories/story.repository.js';
import { AudioChunkMaker } from './audio-chunk.maker.js';
import type { ChunkMaker } from './chunk-maker.js';
import { placeUnlessFinished } from './chunk-file.js';
import { ImageChunkMaker } from './image-chunk.maker.js';

/** Chunk kind → the key of a chunk's file (`stories/<id>/images/NNN.<ext>`, `stories/<id>/audio/NNN.<ext>`). */
const CHUNK_KEY: Record<ChunkKind, (storyId: string, index: number, extension: string) => string> = {
  images: artifactKeys.image,
  audio: artifactKeys.clip,
};

/**
 * Runs one job of a chunked step (`images`, `audio`): makes the chunk's file with the kind's
 * maker, stores it under its deterministic key and records the chunk; the last chunk completes
 * the step. A finished chunk whose file exists is skipped, so a retried or repeated job never adds
 * a file. The step's name is its chunk kind.
 */
@Injectable()
export class ChunkStepRunner {
  /** Chunk kind → its maker (a kind without one does not compile). */
  private readonly makers: { [K in ChunkKind]: ChunkMaker<K> };

  constructor(
    private readonly stories: StoryRepository,
    private readonly storage: StorageRepository,
    private readonly events: EventsRepository,
    images: ImageChunkMaker,
    audio: AudioChunkMaker,
  ) {
    this.makers = { images, audio };
  }

  /**
   * Makes chunk `chunkIndex` of the story's `kind` chunks. `signal` aborts the provider call.
   * @returns true when this call finished the last chunk and so completed the step.
   * @throws Error when the story has no such chunk; what the maker throws (nothing is recorded).
   */
  async run<K extends ChunkKind>(kind: K, storyId: string, chunkIndex: number, signal?: AbortSignal): Promise<boolean> {
    const step: StepName = kind;
    const story = await this.stories.getOrThrow(storyId);
    const status = story[STEP_COLUMN[step]];
    // Nothing to do once the step is over (a chunk that failed for good fails the whole step).
    if (storyHasEnded(story) || status === 'completed' || status === 'failed') return false;
    const chunk = await this.stories.chunk(kind, storyId, chunkIndex);
    if (!chunk) throw new Error(`Story ${storyId} has no ${kind} chunk ${chunkIndex}`);
    if (await this.stories.transitionStep(storyId, step, ['queued'], 'running')) {
      this.events.emit({ type: 'step', storyId, batchId: story.batchId, step, state: 'started' });
    }

    const done = chunk.status === 'completed' && chunk.storageKey && (await this.storage.exists(chunk.storageKey));
    if (!done) {
      const { total } = await this.stories.chunkCounts(storyId, kind);
      const maker: ChunkMaker<K> = this.makers[kind];
      const made = await maker.make(story, chunk, total, signal);
      const key = CHUNK_KEY[kind](storyId, chunk.index, made.extension);
      // Made beside its key and put in place only when recorded (see StoryRepository.completeChunk).
      const staged = await this.storage.stage(key, made.data);
      let recorded: boolean;
      try {
        const values = await made.values(staged, signal);
        recorded = await this.stories.completeChunk(kind, chunk, { ...values, storageKey: key }, (current) => placeUnlessFinished(this.storage, current, staged, key));
      } finally {
        await this.storage.discard(staged);
      }
      // Not recorded: the story failed or was cancelled meanwhile (its rollback keeps finished
      // chunks only), or another run of this job finished the chunk first and its file stays.
      if (!recorded) return false;
      // A chunk made again may come back in another format: its earlier file goes.
      if (chunk.storageKey && chunk.storageKey !== key) await this.storage.remove(chunk.storageKey);
      await this.stories.mergeMetadata(storyId, made.metadata);
      if (made.provider !== made.requestedProvider) {
        await this.stories.addFallback(storyId, `${kind} ${chunk.index + 1}: ${made.provider} (after ${made.requestedProvider})`);
      }
    }

    const counts = await this.stories.chunkCounts(storyId, kind);
    this.events.emit({ type: 'step', storyId, batchId: story.batchId, step, state: 'progress', ...counts });
    const completed = await this.stories.completeStepIfAllChunksDone(storyId, kind);
    if (completed) this.events.emit({ type: 'step', storyId, batchId: story.batchId, step, state: 'done', ...counts });
    return completed;
  }
}
