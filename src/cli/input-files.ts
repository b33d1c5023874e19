import fs from 'node:fs/promises';
import path from 'node:path';

/** File name endings `storyforge run` picks up when given a folder. */
const STORY_EXTENSIONS = /\.(txt|docx?)$/i;

/**
 * Expands the command line's paths: files as given, folders to their story files (sorted,
 * not recursive).
 * @throws Error naming a path that does not exist.
 */
export async function expandInputPaths(inputs: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    let stat;
    try {
      stat = await fs.stat(input);
    } catch {
      throw new Error(`${input}: no such file or folder`);
    }
    if (stat.isDirectory()) {
      const names = (await fs.readdir(input)).filter((name) => STORY_EXTENSIONS.test(name)).sort();
      files.push(...names.map((name) => path.join(input, name)));
    } else {
      files.push(input);
    }
  }
  return files;
}
