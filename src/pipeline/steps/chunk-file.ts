import type { StorageRepository } from '../../repositories/storage.repository.js';

/**
 * The `place` callback of StoryRepository.completeChunk for a chunk run's staged file: puts it
 * under `key`, unless the chunk (as recorded now, under the story's row lock) was finished by
 * another run of the same job and its file is there, which then stays as it is.
 * @returns whether the staged file was placed (and the chunk is to be recorded).
 */
export async function placeUnlessFinished(
  storage: StorageRepository,
  current: { status: string; storageKey: string | null },
  staged: string,
  key: string,
): Promise<boolean> {
  if (current.status === 'completed' && current.storageKey && (await storage.exists(current.storageKey))) return false;
  await storage.place(staged, key);
  return true;
}
