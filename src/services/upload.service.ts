import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Upload } from '../db/schema.js';
import { artifactKeys, StorageRepository } from '../repositories/storage.repository.js';
import { UploadRepository } from '../repositories/upload.repository.js';
import { extractText } from '../text/extract.js';
import { countWords } from '../text/words.js';

/** Largest file accepted by default, bytes (seed: 10 MB per file). */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

/**
 * Uploads: reads a story file (format chosen by its first bytes), keeps the original under a
 * server-made key and stores the extracted text.
 */
@Injectable()
export class UploadService {
  constructor(
    private readonly uploads: UploadRepository,
    private readonly storage: StorageRepository,
  ) {}

  /**
   * @param bytes the whole file.
   * @throws IntakeError (code and file name) when the file is empty, unreadable or has no text;
   * nothing is stored then.
   */
  async ingest(input: { userId: string; fileName: string; bytes: Uint8Array }): Promise<Upload> {
    const extracted = await extractText(input.bytes, input.fileName);
    const id = randomUUID();
    const storageKey = artifactKeys.upload(id, extracted.format);
    await this.storage.write(storageKey, input.bytes);
    return this.uploads.create({
      id,
      userId: input.userId,
      originalName: input.fileName.normalize('NFC'),
      storageKey,
      sizeBytes: input.bytes.byteLength,
      format: extracted.format,
      encoding: extracted.encoding ?? null,
      text: extracted.text,
      wordCount: countWords(extracted.text),
    });
  }
}
