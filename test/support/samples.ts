import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Sample inputs bundled with the tests (copied from public sources; see SOURCES.md there). */
export const SAMPLES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/samples');

/** Path of a bundled sample, e.g. `stories/vi/vi_thanh_giong.txt`. */
export const sample = (relative: string): string => path.join(SAMPLES_DIR, relative);

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
