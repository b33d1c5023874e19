import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { Upload } from '../db/schema.js';
import { artifactKeys, StorageRepository } from '../repositories/storage.repository.js';
import { UploadRepository } from '../repositories/upload.repository.js';
import { extractText } from '../text/extract.js';
import { normalizeFileName } from '../text/file-name.js';
import { countWords } from '../text/words.js';
import { checkFileCount, checkFileSize, DEFAULT_UPLOAD_LIMITS, type UploadLimits, uploadLimits } from './intake-rules.js';

/** Largest file accepted by default, bytes (seed: 10 MB per file); the configured limit is `UPLOAD_MAX_BYTES`. */
export const MAX_UPLOAD_BYTES = DEFAULT_UPLOAD_LIMITS.maxBytes;

/**
 * Intake of one story file, for the HTTP uploads (FileUploadService) and `storyforge run` alike:
 * reads it (format chosen by its first bytes), keeps the original under a server-made key and
 * stores the extracted text.
 */
@Injectable()
export class IntakeService {
  /** The configured limits (`UPLOAD_MAX_FILES`, `UPLOAD_MAX_BYTES`). */
  readonly limits: UploadLimits;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly uploads: UploadRepository,
    private readonly storage: StorageRepository,
  ) {
    this.limits = uploadLimits(config);
  }

  /** @throws IntakeError `too-many-files` when one request (batch) brings more files than `UPLOAD_MAX_FILES`. */
  checkFileCount(count: number): void {
    checkFileCount(count, this.limits);
  }

  /** @throws IntakeError `file-too-large` when a file is bigger than `UPLOAD_MAX_BYTES` (check before reading it). */
  checkFileSize(sizeBytes: number, fileName?: string): void {
    checkFileSize(sizeBytes, fileName === undefined ? undefined : normalizeFileName(fileName), this.limits);
  }

  /**
   * Reads one story file and stores it: the size limit, then the text (`extractText`: format from
   * the first bytes, decoding, Word extraction, refusals), then the original under a server-made
   * key. The stored name is the client's name normalised (`normalizeFileName`: UTF-8, NFC, no path).
   * @param bytes the whole file.
   * @returns the stored upload, with `format` and `encoding` (how a .txt was decoded, else null).
   * @throws IntakeError (code and file name) when the file is too large, empty, unreadable or has no
   * text; nothing is stored then.
   */
  async ingest(input: { userId: string; fileName: string; bytes: Uint8Array }): Promise<Upload> {
    const originalName = normalizeFileName(input.fileName);
    checkFileSize(input.bytes.byteLength, originalName, this.limits);
    const extracted = await extractText(input.bytes, originalName);
    const id = randomUUID();
    const storageKey = artifactKeys.upload(id, extracted.format);
    await this.storage.write(storageKey, input.bytes);
    return this.uploads.create({
      id,
      userId: input.userId,
      originalName,
      storageKey,
      sizeBytes: input.bytes.byteLength,
      format: extracted.format,
      encoding: extracted.encoding ?? null,
      text: extracted.text,
      wordCount: countWords(extracted.text),
    });
  }
}
