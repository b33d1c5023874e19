import type { Story, StoryMetadata } from '../../db/schema.js';
import type { ChunkKind, ChunkOf, ChunkValues } from '../../repositories/story.repository.js';

/** What one chunk run made, before it is stored and recorded. */
export interface MadeChunk<K extends ChunkKind> {
  /** The file's bytes and its extension (`png`, `wav` …), which names its key. */
  data: Uint8Array;
  extension: string;
  /** The provider that made it, and the one the story asked for (they differ after a fallback). */
  provider: string;
  requestedProvider: string;
  /** What the story's metadata records of the provider (`providers.images`, `providers.audio`). */
  metadata: StoryMetadata;
  /**
   * What the chunk records besides its key, read from the staged file where needed (a clip's
   * decoded duration and word timings).
   */
  values(stagedFile: string, signal?: AbortSignal): Promise<ChunkValues<K>>;
}

/** Makes the file of one chunk of a kind: the per-kind part of ChunkStepRunner. */
export interface ChunkMaker<K extends ChunkKind> {
  /**
   * @param total the story's number of chunks of this kind.
   * @throws ProviderError from the provider; the step runner decides on a retry.
   */
  make(story: Story, chunk: ChunkOf<K>, total: number, signal?: AbortSignal): Promise<MadeChunk<K>>;
}
