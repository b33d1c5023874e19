import type { Readable } from 'node:stream';

const KEY_PATTERN = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_.-]+)*$/;

/**
 * Checks that a key is a safe server-made key: slash-separated names of letters, digits, `_ . -`,
 * no `.` or `..` part.
 * @throws Error when it is not (a bug: keys never come from clients).
 */
export function assertStorageKey(key: string): void {
  if (!KEY_PATTERN.test(key) || key.split('/').some((part) => part === '.' || part === '..')) {
    throw new Error(`Invalid storage key: ${JSON.stringify(key)}`);
  }
}

/** What an HTTP download asks for: the conditional and range headers, and how the file is to be named. */
export interface DownloadRequest {
  /** The `Range` header, e.g. `bytes=0-1023`. */
  range?: string;
  /** The `If-None-Match` header. */
  ifNoneMatch?: string;
  /** The `If-Modified-Since` header. */
  ifModifiedSince?: string;
  contentType: string;
  /** The `Content-Disposition` the client should see. */
  contentDisposition: string;
}

/**
 * How to answer a download: send a local file (Express `send` handles ranges and conditions), redirect
 * to a presigned URL of the bucket, or stream an object's answer (`200`, `206`, `304` with its
 * `ETag`, `Last-Modified`, `Content-Length`, `Content-Range` headers).
 */
export type Download =
  | { kind: 'file'; path: string }
  | { kind: 'redirect'; url: string }
  | { kind: 'stream'; status: 200 | 206 | 304; headers: Record<string, string>; body?: Readable };

/**
 * Artifact and upload storage. Keys are server-made, slash-separated paths such as
 * `stories/<storyId>/images/001.png`; a client's file name never becomes a key. A write under a key
 * is all or nothing: a retry overwrites, a crash never leaves half a file under a key. Two drivers:
 * {@link LocalStorageRepository} (a folder every process sees) and S3StorageRepository (a bucket,
 * for hosts that share no disk); STORAGE_DRIVER chooses (see storage.provider.ts).
 *
 * Media tools read local files: {@link localFile} gives one (the stored file itself on a local
 * folder, a download into the caller's scratch folder from a bucket), and {@link moveIn} stores
 * what they wrote.
 */
export abstract class StorageRepository {
  /** Writes bytes under a key, replacing what was there. */
  abstract write(key: string, data: Uint8Array): Promise<void>;

  /**
   * Keeps bytes meant for a key in a local file, to be put in place later with {@link place} (or
   * removed with {@link discard}): the key's current file stays untouched until then. Tools may
   * read the staged file (e.g. ffprobe a clip before it is recorded). The local driver stages
   * beside the key as a `.part` file, which {@link removePartial} removes when a killed process
   * left it; the bucket driver stages in the process's scratch space.
   * @returns the staged file's local path, for {@link place} / {@link discard}.
   */
  abstract stage(key: string, data: Uint8Array): Promise<string>;

  /** Puts a file staged by {@link stage} under its key, replacing what was there; the staged file is gone after. */
  abstract place(staged: string, key: string): Promise<void>;

  /** Removes staged bytes that were not placed; ones already placed or gone are not an error. */
  abstract discard(staged: string): Promise<void>;

  /** Stores a finished local file (for example ffmpeg's output in a scratch folder) under a key; the local file is gone after. */
  abstract moveIn(key: string, sourceFile: string): Promise<void>;

  /**
   * A local file holding a key's bytes, for tools such as ffmpeg: the stored file itself on the
   * local driver (do not change it), a download into `scratchDir` from a bucket (removed with the
   * scratch folder). @throws Error when the key is missing.
   */
  abstract localFile(key: string, scratchDir: string): Promise<string>;

  /** Copies a key's bytes to a local file (an export folder). @throws Error when the key is missing. */
  abstract copyToFile(key: string, target: string): Promise<void>;

  /** The key's bytes. @throws Error when the key is missing. */
  abstract read(key: string): Promise<Buffer>;

  /**
   * A stream of the key's bytes. Nothing is read until the stream is (so a ZIP can be given many
   * at once); a missing key errors the stream.
   */
  abstract openRead(key: string): Readable;

  /** How to answer an HTTP download of a key (see {@link Download}). */
  abstract download(key: string, request: DownloadRequest): Promise<Download>;

  abstract exists(key: string): Promise<boolean>;

  /** Size of the stored file, bytes. @throws Error when the key is missing. */
  abstract size(key: string): Promise<number>;

  /** Removes one key; removing a missing key is not an error. */
  abstract remove(key: string): Promise<void>;

  /** Removes every key under a folder-like prefix such as `stories/<id>/images`. */
  abstract removePrefix(prefix: string): Promise<void>;

  /**
   * Removes the temporary `.part` files directly under a prefix: what a write left behind when its
   * process was killed half-way. @returns how many were removed.
   */
  abstract removePartial(prefix: string): Promise<number>;

  /** Keys directly under a prefix (files only, no `.part` files), sorted. */
  abstract list(prefix: string): Promise<string[]>;

  /** Checks that the storage can be written and read (readiness); @throws Error saying why not. */
  abstract check(): Promise<void>;
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
