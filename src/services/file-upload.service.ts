import fs from 'node:fs/promises';
import path from 'node:path';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { AuthUser } from '../shared/auth-user.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { Upload } from '../db/schema.js';
import { mapUpload, type UploadedFileDto, type UploadPageDto } from '../dtos/upload.dto.js';
import { ApiError, type FieldError, notFound } from '../shared/api-error.js';
import type { FileResponse } from '../dtos/file-download.js';
import { uploadTempDir } from '../config/upload-temp-dir.js';
import { StorageRepository } from '../repositories/storage.repository.js';
import { UploadRepository } from '../repositories/upload.repository.js';
import { IntakeError } from '../text/intake-error.js';
import { IntakeService } from './intake.service.js';
import { mapMusicFile, type MusicFileDto } from '../dtos/music.dto.js';
import { MusicService } from './music.service.js';

/** A file multer has written to the temporary folder. */
export interface ReceivedFile {
  /** Client's file name, decoded as UTF-8. */
  originalname: string;
  /** Where multer wrote it. */
  path: string;
  size: number;
}

/** Temporary upload files older than this are removed at start-up (left by a crash), ms. */
const STALE_TEMP_MS = 3600_000;

const CONTENT_TYPES: Record<Upload['format'], string> = {
  txt: 'text/plain',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  doc: 'application/msword',
};

/**
 * The upload endpoints' side of intake: takes the files multer streamed to disk, hands each to
 * {@link IntakeService.ingest} (which reads the text and stores the original under a server-made
 * key) and removes the temporary files. A request is all or nothing: when one file cannot be read,
 * none is kept, and the answer names every refused file.
 */
@Injectable()
export class FileUploadService implements OnModuleInit {
  private readonly logger = new Logger('Uploads');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly intake: IntakeService,
    private readonly uploads: UploadRepository,
    private readonly storage: StorageRepository,
    private readonly music: MusicService,
  ) {}

  /** Makes the temporary folder and removes what a crashed process left there. */
  async onModuleInit(): Promise<void> {
    const dir = uploadTempDir(this.config);
    await fs.mkdir(dir, { recursive: true });
    const now = Date.now();
    for (const name of await fs.readdir(dir)) {
      const file = path.join(dir, name);
      const stat = await fs.stat(file).catch(() => undefined);
      if (stat && now - stat.mtimeMs > STALE_TEMP_MS) await fs.rm(file, { force: true, recursive: true });
    }
  }

  /**
   * Stores the received files as the user's uploads, in order.
   * @param field form field the files came in (`file` or `files`), for error paths.
   * @throws ApiError 400 `missing-file` when no file came; the IntakeError's status and code (413,
   * 415, 422 …) when a file cannot be read, with one field error per refused file.
   */
  async ingest(user: AuthUser, received: ReceivedFile[], field: 'file' | 'files'): Promise<UploadedFileDto[]> {
    try {
      if (!received.length) {
        throw new ApiError(400, 'missing-file', `No file was sent; send story files in the multipart field "${field}"`, [
          { field, message: 'a .txt, .doc or .docx file is required' },
        ]);
      }
      const stored: Upload[] = [];
      const refused: { error: IntakeError; field: string }[] = [];
      for (const [index, file] of received.entries()) {
        const fieldPath = field === 'files' ? `files[${index}]` : 'file';
        try {
          const bytes = await fs.readFile(file.path);
          stored.push(await this.intake.ingest({ userId: user.id, fileName: file.originalname, bytes }));
        } catch (error) {
          if (!(error instanceof IntakeError)) throw error;
          refused.push({ error, field: fieldPath });
        }
      }
      if (refused.length) {
        await Promise.all(stored.map((upload) => this.remove(upload)));
        throw refusal(refused, received.length);
      }
      return stored.map(mapUpload);
    } finally {
      await Promise.all(received.map((file) => fs.rm(file.path, { force: true })));
    }
  }

  /** One file from POST /file-upload/upload. @throws as {@link ingest}. */
  async ingestOne(user: AuthUser, file: ReceivedFile | undefined): Promise<UploadedFileDto> {
    const [upload] = await this.ingest(user, file ? [file] : [], 'file');
    return upload!;
  }

  /** The files of POST /file-upload/batch-upload. @throws as {@link ingest}. */
  async ingestMany(user: AuthUser, files: ReceivedFile[]): Promise<{ files: UploadedFileDto[] }> {
    return { files: await this.ingest(user, files, 'files') };
  }

  /**
   * The music file of POST /file-upload/music, checked by its content and stored; the temporary
   * file is removed either way.
   * @throws ApiError 400 `missing-file` when no file came; as {@link MusicService.ingest} otherwise.
   */
  async ingestMusic(user: AuthUser, file: ReceivedFile | undefined): Promise<MusicFileDto> {
    if (!file) {
      throw new ApiError(400, 'missing-file', 'No file was sent; send a music file in the multipart field "file"', [
        { field: 'file', message: 'an MP3, WAV, OGG or M4A file is required' },
      ]);
    }
    try {
      return mapMusicFile(await this.music.ingest({ userId: user.id, fileName: file.originalname, path: file.path }));
    } finally {
      await fs.rm(file.path, { force: true });
    }
  }

  async list(user: AuthUser, page: { page: number; limit: number; offset: number }): Promise<UploadPageDto> {
    const { items, total } = await this.uploads.listByUser(user.id, page);
    return { items: items.map(mapUpload), page: page.page, limit: page.limit, total };
  }

  /** @throws ApiError 404 when the upload does not exist or is another user's. */
  async get(user: AuthUser, id: string): Promise<UploadedFileDto> {
    return mapUpload(await this.owned(user, id));
  }

  /** The original file as it was sent. @throws ApiError 404. */
  async original(user: AuthUser, id: string): Promise<FileResponse> {
    const upload = await this.owned(user, id);
    return {
      storage: this.storage,
      key: upload.storageKey,
      contentType: CONTENT_TYPES[upload.format],
      fileName: upload.originalName,
      disposition: 'attachment',
    };
  }

  private async owned(user: AuthUser, id: string): Promise<Upload> {
    const upload = await this.uploads.get(id);
    if (!upload || upload.userId !== user.id) throw notFound('Upload', id);
    return upload;
  }

  private async remove(upload: Upload): Promise<void> {
    try {
      await this.uploads.delete(upload.id);
      await this.storage.removePrefix(path.posix.dirname(upload.storageKey));
    } catch (error) {
      this.logger.warn(`Could not remove upload ${upload.id} after a refused request: ${(error as Error).message}`);
    }
  }
}

/** One ApiError for the refused files of a request: the first refusal's status and code, every file named. */
function refusal(refused: { error: IntakeError; field: string }[], total: number): ApiError {
  const first = refused[0]!.error;
  const named = (error: IntakeError) =>
    error.fileName && !error.message.includes(error.fileName) ? `"${error.fileName}": ${error.message}` : error.message;
  const errors: FieldError[] = refused.map(({ error, field }) => ({ field, message: `${named(error)} (${error.code})` }));
  const message =
    refused.length === 1
      ? `${named(first)}${total > 1 ? ' No file of this request was kept.' : ''}`
      : `${refused.length} of ${total} files could not be read; no file of this request was kept: ${refused.map((r) => r.error.fileName ?? r.field).join(', ')}`;
  return new ApiError(first.httpStatus, first.code, message, errors);
}
