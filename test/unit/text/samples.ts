import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The shared sample inputs (shared/samples, see its SOURCES.md). Locally they are at
 * /work/shared/samples; CI lays shared/ beside the clone of the repository.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SAMPLES_DIR =
  [process.env.STORYFORGE_SAMPLES_DIR, path.resolve(repoRoot, '../shared/samples'), '/work/shared/samples'].find(
    (dir): dir is string => !!dir && existsSync(path.join(dir, 'SOURCES.md')),
  ) ?? '/work/shared/samples';

export function sampleBytes(relative: string): Buffer {
  return readFileSync(path.join(SAMPLES_DIR, relative));
}

export function sampleText(relative: string): string {
  return readFileSync(path.join(SAMPLES_DIR, relative), 'utf8');
}

/** The nine story files, e.g. `en/en_grimm_frog_prince.txt`, with their language folder. */
export function storyFiles(): Array<{ path: string; name: string; folder: string }> {
  const root = path.join(SAMPLES_DIR, 'stories');
  return readdirSync(root)
    .sort()
    .flatMap((folder) =>
      readdirSync(path.join(root, folder))
        .filter((name) => name.endsWith('.txt'))
        .sort()
        .map((name) => ({ path: `stories/${folder}/${name}`, name, folder })),
    );
}
