import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Injectable } from '@nestjs/common';
import { ZipArchive } from 'archiver';
import { StorageRepository } from '../repositories/storage.repository.js';
import { StoryRepository } from '../repositories/story.repository.js';
import { UploadRepository } from '../repositories/upload.repository.js';
import { ExportService, folderName, type StoryFileEntry } from './export.service.js';

/** What a story's package holds and what to call it. */
export interface StoryPackage {
  /** Download name, e.g. `vi_thanh_giong.zip`. */
  fileName: string;
  /** Folder inside the ZIP that holds the files (same name as `storyforge run` gives it). */
  folder: string;
  /** Paths inside the folder, in ZIP order. */
  files: string[];
}

/** Formats that are compressed already: stored, not deflated again (faster, and just as small). */
const STORED = /\.(?:png|jpe?g|webp|mp3|mp4|m4a|ogg|opus)$/i;

/**
 * A story as one ZIP, streamed: the same files `storyforge run` writes in its folder (story.md,
 * story.json, images/, audio/, narration.mp3, subtitles.srt, subtitles.vtt, video.mp4), under one
 * folder. Entries are read from storage as the archive is written, so memory stays small whatever
 * the size of the video. The HTTP route (`GET /stories/:id/package`) checks access and calls
 * {@link describe} for the headers, then {@link streamPackage} with the response.
 */
@Injectable()
export class PackageService {
  constructor(
    private readonly stories: StoryRepository,
    private readonly uploads: UploadRepository,
    private readonly storage: StorageRepository,
    private readonly exporter: ExportService,
  ) {}

  /** The package's name and contents; undefined when the story does not exist. */
  async describe(storyId: string): Promise<StoryPackage | undefined> {
    const prepared = await this.prepare(storyId);
    if (!prepared) return undefined;
    return { fileName: `${prepared.folder}.zip`, folder: prepared.folder, files: prepared.files.map((f) => f.path) };
  }

  /**
   * Streams the story's ZIP into `output` (an HTTP response, a file stream …) and resolves when
   * the archive is complete and `output` has taken all of it.
   * @returns the ZIP's size, bytes.
   * @throws Error when the story does not exist (before anything is written), or when reading a
   * file or writing to `output` fails (the archive is then aborted).
   */
  async streamPackage(storyId: string, output: Writable, signal?: AbortSignal): Promise<{ bytes: number; files: number }> {
    const prepared = await this.prepare(storyId);
    if (!prepared) throw new Error(`Story ${storyId} does not exist`);
    return this.streamFolders([prepared], output, signal);
  }

  /**
   * Streams several stories into one ZIP (a batch's "Download all"), each in its own folder named
   * as {@link describe} names it (`NAME-2` … when two stories would share a name). Stories that
   * no longer exist are left out.
   * @returns the ZIP's size, bytes, and the number of files in it.
   * @throws Error when reading a file or writing to `output` fails (the archive is then aborted).
   */
  async streamStories(storyIds: string[], output: Writable, signal?: AbortSignal): Promise<{ bytes: number; files: number }> {
    const folders: { folder: string; files: StoryFileEntry[] }[] = [];
    const used = new Set<string>();
    for (const id of storyIds) {
      const prepared = await this.prepare(id);
      if (!prepared) continue;
      let folder = prepared.folder;
      for (let n = 2; used.has(folder); n++) folder = `${prepared.folder}-${n}`;
      used.add(folder);
      folders.push({ folder, files: prepared.files });
    }
    return this.streamFolders(folders, output, signal);
  }

  private async streamFolders(
    folders: { folder: string; files: StoryFileEntry[] }[],
    output: Writable,
    signal?: AbortSignal,
  ): Promise<{ bytes: number; files: number }> {
    const archive = new ZipArchive({ zlib: { level: 6 } });
    const failure = new Promise<never>((_, reject) => {
      archive.on('error', reject);
      archive.on('warning', reject);
    });
    failure.catch(() => undefined);
    const onAbort = () => archive.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      archive.pipe(output);
      const date = new Date();
      let count = 0;
      for (const { folder, files } of folders) {
        for (const file of files) {
          const name = `${folder}/${file.path}`;
          if ('key' in file) archive.append(this.storage.openRead(file.key), { name, date, store: STORED.test(file.path) });
          else archive.append(Buffer.from(file.content, 'utf8'), { name, date });
          count++;
        }
      }
      await Promise.race([archive.finalize(), failure]);
      await Promise.race([finished(output), failure]);
      return { bytes: archive.pointer(), files: count };
    } catch (error) {
      archive.abort();
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async prepare(storyId: string): Promise<{ folder: string; files: StoryFileEntry[] } | undefined> {
    const story = await this.stories.get(storyId);
    if (!story) return undefined;
    const upload = story.uploadId ? await this.uploads.get(story.uploadId) : undefined;
    const folder = folderName(upload?.originalName ?? story.title ?? story.id);
    const { files } = await this.exporter.storyFiles(story, upload?.originalName ?? null);
    return { folder, files };
  }
}
