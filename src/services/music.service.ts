import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import { Injectable } from '@nestjs/common';
import type { MusicFile } from '../db/schema.js';
import { ApiError, notFound } from '../shared/api-error.js';
import { MAX_MUSIC_BYTES, MIN_MUSIC_MS, MUSIC_FORMATS } from '../media/soundtrack.js';
import { MediaCommandError } from '../media/media-command-error.js';
import { MediaRepository } from '../repositories/media.repository.js';
import { MusicRepository } from '../repositories/music.repository.js';
import { artifactKeys, StorageRepository } from '../repositories/storage.repository.js';
import { normalizeFileName } from '../text/file-name.js';


const ACCEPTED = 'an MP3, WAV, OGG or M4A audio file';

/**
 * Background music for videos: a file accepted by what it holds (ffprobe reads it; its name is
 * not trusted), kept as sent under a server-made key, and found again by its owner's batches.
 */
@Injectable()
export class MusicService {
  constructor(
    private readonly media: MediaRepository,
    private readonly music: MusicRepository,
    private readonly storage: StorageRepository,
  ) {}

  /**
   * Checks and stores a music file that is on disk (a multer upload, a command-line path).
   * @param fileName the client's name (kept for display only).
   * @returns the stored music file.
   * @throws ApiError 413 `file-too-large` over {@link MAX_MUSIC_BYTES}; 422 `empty-file`;
   * 415 `not-audio` when ffprobe finds no audio in it (an image, a text, a damaged file);
   * 415 `unsupported-format` for audio in another container (FLAC, AIFF …) or a file with video;
   * 422 `music-too-short` under {@link MIN_MUSIC_MS}. Nothing is stored then.
   */
  async ingest(input: { userId: string; fileName: string; path: string }): Promise<MusicFile> {
    const originalName = normalizeFileName(input.fileName);
    const name = JSON.stringify(originalName);
    const { size } = await fs.stat(input.path);
    if (size === 0) throw refuse(422, 'empty-file', `${name} is empty (0 bytes); send ${ACCEPTED}`);
    if (size > MAX_MUSIC_BYTES) {
      throw refuse(413, 'file-too-large', `${name} is ${mb(size)} MB; music files may be at most ${mb(MAX_MUSIC_BYTES)} MB (shorten it or send an MP3)`);
    }
    let probe;
    try {
      probe = await this.media.probeAudio(input.path);
    } catch (error) {
      if (!(error instanceof MediaCommandError)) throw error;
      throw refuse(415, 'not-audio', `${name} is not an audio file ffmpeg can read; send ${ACCEPTED}`);
    }
    if (!probe.codec) throw refuse(415, 'not-audio', `${name} holds no sound (ffprobe found no audio stream); send ${ACCEPTED}`);
    if (!probe.format) {
      throw refuse(415, 'unsupported-format', `${name} is ${probe.container} audio; send ${ACCEPTED} (convert it, e.g. ffmpeg -i in.flac music.mp3)`);
    }
    if (probe.videoStreams > 0) {
      throw refuse(415, 'unsupported-format', `${name} holds video; send the sound only (e.g. ffmpeg -i in.mp4 -vn -c:a copy music.m4a)`);
    }
    if (!(probe.durationMs >= MIN_MUSIC_MS)) {
      throw refuse(422, 'music-too-short', `${name} lasts ${Number.isFinite(probe.durationMs) ? `${Math.round(probe.durationMs)} ms` : 'no measurable time'}; music must last at least ${MIN_MUSIC_MS / 1000} s (it is looped to the video's length)`);
    }
    const id = randomUUID();
    const storageKey = artifactKeys.music(id, MUSIC_FORMATS[probe.format]);
    await this.storage.write(storageKey, await fs.readFile(input.path));
    return this.music.create({
      id,
      userId: input.userId,
      originalName,
      storageKey,
      sizeBytes: size,
      format: probe.format,
      codec: probe.codec,
      durationMs: Math.round(probe.durationMs),
    });
  }

  /**
   * The user's music file.
   * @param field where the id came from, for the error (e.g. `autoMode.music.fileId`).
   * @throws ApiError 404 when it does not exist or is another user's.
   */
  async owned(userId: string, id: string): Promise<MusicFile> {
    const file = await this.music.get(id);
    if (!file || file.userId !== userId) throw notFound('Music file', id);
    return file;
  }
}

function refuse(status: 413 | 415 | 422, code: string, message: string): ApiError {
  return new ApiError(status, code, message, [{ field: 'file', message }]);
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1).replace(/\.0$/, '');
}
