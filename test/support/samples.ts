import { readFileSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
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

/**
 * Writes a short copy of a story sample to `dir` under the sample's own file name: its title line
 * and the first `sentences` sentences of the text after it (lines joined). Heavy tests run on it
 * so that a busy machine does not need longer time limits.
 * @returns the copy's path.
 */
export async function shortSample(relative: string, dir: string, sentences = 4): Promise<string> {
  const [title, ...rest] = sampleText(relative).split('\n');
  const text = rest.join(' ').replace(/\s+/g, ' ').trim();
  const file = path.join(dir, path.basename(relative));
  await writeFile(file, `${title}\n\n${text.split(/(?<=[.!?]) /).slice(0, sentences).join(' ')}\n`);
  return file;
}
