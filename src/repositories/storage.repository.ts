import { randomUUID } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';

const KEY_PATTERN = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_.-]+)*$/;

/**
 * Artifact and upload storage in a local folder (`<DATA_DIR>/files`). Keys are server-made,
 * slash-separated paths such as `stories/<storyId>/images/001.png`; a client's file name never
 * becomes a key. Writes are atomic (temporary file, then rename), so a retry overwrites and a
 * crash never leaves half a file under a key.
 */
@Injectable()
export class StorageRepository {
  readonly root: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.root = path.join(config.dataDir, 'files');
  }

  /**
   * Local path of a key, for tools such as ffmpeg that read files.
   * @throws Error when the key is not a safe server-made key (e.g. contains `..`).
   */
  pathOf(key: string): string {
    if (!KEY_PATTERN.test(key) || key.split('/').some((part) => part === '.' || part === '..')) {
      throw new Error(`Invalid storage key: ${JSON.stringify(key)}`);
    }
    return path.join(this.root, ...key.split('/'));
  }

  /** Writes bytes under a key, replacing what was there. */
  async write(key: string, data: Uint8Array): Promise<void> {
    const target = this.pathOf(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const temp = `${target}.${randomUUID()}.part`;
    try {
      await fs.writeFile(temp, data);
      await fs.rename(temp, target);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
  }

  /**
   * Writes bytes next to a key's file under a temporary `.part` name, to be put in place later with
   * {@link place} (or removed with {@link discard}): the key's current file stays untouched until
   * then. A `.part` file left by a killed process is removed like any other (see {@link removePartial}).
   * @returns the staged file's local path.
   */
  async stage(key: string, data: Uint8Array): Promise<string> {
    const target = this.pathOf(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const staged = `${target}.${randomUUID()}.part`;
    try {
      await fs.writeFile(staged, data);
    } catch (error) {
      await fs.rm(staged, { force: true });
      throw error;
    }
    return staged;
  }

  /** Puts a file made by {@link stage} under its key (an atomic rename, replacing what was there). */
  async place(staged: string, key: string): Promise<void> {
    await fs.rename(staged, this.pathOf(key));
  }

  /** Removes a staged file that was not placed; one already placed or gone is not an error. */
  async discard(staged: string): Promise<void> {
    await fs.rm(staged, { force: true });
  }

  /**
   * Moves a finished local file (for example ffmpeg's output in a temporary folder) under a key.
   * Falls back to copy when the two are on different file systems.
   */
  async moveIn(key: string, sourceFile: string): Promise<void> {
    const target = this.pathOf(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    try {
      await fs.rename(sourceFile, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      const temp = `${target}.${randomUUID()}.part`;
      await fs.copyFile(sourceFile, temp);
      await fs.rename(temp, target);
      await fs.rm(sourceFile, { force: true });
    }
  }

  read(key: string): Promise<Buffer> {
    return fs.readFile(this.pathOf(key));
  }

  createReadStream(key: string): ReadStream {
    return createReadStream(this.pathOf(key));
  }

  async exists(key: string): Promise<boolean> {
    try {
      await fs.access(this.pathOf(key));
      return true;
    } catch {
      return false;
    }
  }

  /** Size of the stored file, bytes. */
  async size(key: string): Promise<number> {
    return (await fs.stat(this.pathOf(key))).size;
  }

  /** Removes one key; removing a missing key is not an error. */
  async remove(key: string): Promise<void> {
    await fs.rm(this.pathOf(key), { force: true });
  }

  /** Removes every key under a folder-like prefix such as `stories/<id>/images`. */
  async removePrefix(prefix: string): Promise<void> {
    await fs.rm(this.pathOf(prefix), { recursive: true, force: true });
  }

  /**
   * Removes the temporary `.part` files directly under a prefix: what a write left behind when its
   * process was killed half-way. Returns how many were removed.
   */
  async removePartial(prefix: string): Promise<number> {
    let names: string[];
    try {
      names = await fs.readdir(this.pathOf(prefix));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
    const partial = names.filter((name) => name.endsWith('.part'));
    await Promise.all(partial.map((name) => fs.rm(path.join(this.pathOf(prefix), name), { force: true })));
    return partial.length;
  }

  /** Keys directly under a prefix (files only, no `.part` files), sorted. */
  async list(prefix: string): Promise<string[]> {
    try {
      const entries = await fs.readdir(this.pathOf(prefix), { withFileTypes: true });
      return entries
        .filter((entry) => entry.isFile() && !entry.name.endsWith('.part'))
        .map((entry) => `${prefix}/${entry.name}`)
        .sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }
}

/** Deterministic artifact keys: the same story and index always give the same key. */
export const artifactKeys = {
  upload: (uploadId: string, format: string) => `uploads/${uploadId}/original.${format}`,
  image: (storyId: string, index: number, extension: string) =>
    `stories/${storyId}/images/${String(index + 1).padStart(3, '0')}.${extension}`,
  clip: (storyId: string, index: number, extension: string) =>
    `stories/${storyId}/audio/${String(index + 1).padStart(3, '0')}.${extension}`,
  imagesFolder: (storyId: string) => `stories/${storyId}/images`,
  audioFolder: (storyId: string) => `stories/${storyId}/audio`,
  narration: (storyId: string) => `stories/${storyId}/narration.mp3`,
  subtitles: (storyId: string, format: 'srt' | 'vtt') => `stories/${storyId}/subtitles.${format}`,
  /** Word-level WebVTT (phrases with inline word timestamps). */
  wordSubtitles: (storyId: string) => `stories/${storyId}/subtitles.words.vtt`,
  video: (storyId: string) => `stories/${storyId}/video.mp4`,
  /** The video's sound when it is more than the narration (music, title card). */
  soundtrack: (storyId: string) => `stories/${storyId}/soundtrack.mp3`,
  thumbnail: (storyId: string) => `stories/${storyId}/thumbnail.jpg`,
  /** A music file as it was sent. */
  music: (musicId: string, format: string) => `music/${musicId}/original.${format}`,
  story: (storyId: string) => `stories/${storyId}`,
};
