import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { AppConfig } from '../config/config.js';
import { assertStorageKey, type Download, StorageRepository } from './storage.repository.js';

/**
 * Storage in a local folder (`<DATA_DIR>/files`), shared by every process that uses it. Writes are
 * atomic (temporary file, then rename), so a retry overwrites and a crash never leaves half a file
 * under a key.
 */
export class LocalStorageRepository extends StorageRepository {
  readonly root: string;

  constructor(config: Pick<AppConfig, 'dataDir'>) {
    super();
    this.root = path.join(config.dataDir, 'files');
  }

  /**
   * Local path of a key.
   * @throws Error when the key is not a safe server-made key (e.g. contains `..`).
   */
  pathOf(key: string): string {
    assertStorageKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  async write(key: string, data: Uint8Array): Promise<void> {
    const staged = await this.stage(key, data);
    await this.place(staged, key);
  }

  /** @returns the staged file's local path. */
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

  /** An atomic rename of the staged file. */
  async place(staged: string, key: string): Promise<void> {
    try {
      await fs.rename(staged, this.pathOf(key));
    } catch (error) {
      await fs.rm(staged, { force: true });
      throw error;
    }
  }

  async discard(staged: string): Promise<void> {
    await fs.rm(staged, { force: true });
  }

  /** A rename; a copy when the two are on different file systems. */
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

  /** The stored file itself (nothing is copied). */
  async localFile(key: string): Promise<string> {
    const file = this.pathOf(key);
    await fs.access(file);
    return file;
  }

  async copyToFile(key: string, target: string): Promise<void> {
    await fs.copyFile(this.pathOf(key), target);
  }

  read(key: string): Promise<Buffer> {
    return fs.readFile(this.pathOf(key));
  }

  openRead(key: string): Readable {
    return createReadStream(this.pathOf(key));
  }

  /** The stored file, sent by Express (ranges, ETag and conditions are its). */
  async download(key: string): Promise<Download> {
    return { kind: 'file', path: this.pathOf(key) };
  }

  async exists(key: string): Promise<boolean> {
    try {
      await fs.access(this.pathOf(key));
      return true;
    } catch {
      return false;
    }
  }

  async size(key: string): Promise<number> {
    return (await fs.stat(this.pathOf(key))).size;
  }

  async remove(key: string): Promise<void> {
    await fs.rm(this.pathOf(key), { force: true });
  }

  async removePrefix(prefix: string): Promise<void> {
    await fs.rm(this.pathOf(prefix), { recursive: true, force: true });
  }

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

  /** Writes and removes a probe file in the folder. */
  async check(): Promise<void> {
    await fs.mkdir(this.root, { recursive: true });
    const probe = path.join(this.root, `.ready-${process.pid}-${randomUUID()}`);
    try {
      await fs.writeFile(probe, 'ok');
    } finally {
      await fs.rm(probe, { force: true });
    }
  }
}
