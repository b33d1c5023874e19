import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import { textTooLong } from '../text/extract.js';
import { normalizeFileName } from '../text/file-name.js';
import { TextLengthGauge } from '../text/text-length-gauge.js';
import { ApiError } from '../shared/api-error.js';

/** What the engine is told about one file. */
export interface StoredFileOptions {
  /** Folder the files are written to (made when missing). */
  destination: string;
  /** Most characters of text a gauged file may give ({@link TextLengthGauge}). */
  maxChars: number;
  /** Whether to gauge this file's text (story files, not music). */
  gauge(file: Express.Multer.File): boolean;
  /** The error path of the file being received (`file`, `files[2]`), for a refusal. */
  fieldPath(request: Request, file: Express.Multer.File): string;
}

/**
 * A multer storage engine that streams each file to disk under a server-made name
 * (`<uuid>.upload`) and, for a story file, gauges its text while it arrives: once the text is
 * sure to pass `maxChars`, the file stops being read and written, what was written is removed,
 * and the request is refused with 413 `file-too-large` (multer then removes the request's other
 * files and reads the rest of the body without keeping it, so that the client gets the answer
 * and not a reset connection).
 */
export function gaugedDiskStorage(options: StoredFileOptions): StorageEngine {
  fs.mkdirSync(options.destination, { recursive: true });
  return {
    _handleFile(request, file, callback) {
      const filePath = path.join(options.destination, `${randomUUID()}.upload`);
      const output = fs.createWriteStream(filePath);
      const stages: NodeJS.ReadWriteStream[] = options.gauge(file) ? [limitText(request, file, options)] : [];
      pipeline([file.stream, ...stages, output]).then(
        () => callback(null, { destination: options.destination, filename: path.basename(filePath), path: filePath, size: output.bytesWritten }),
        (error: unknown) => {
          fs.rm(filePath, { force: true }, () => callback(error as Error));
        },
      );
    },
    _removeFile(_request, file, callback) {
      fs.rm(file.path, { force: true }, callback);
    },
  };
}

function limitText(request: Request, file: Express.Multer.File, options: StoredFileOptions): Transform {
  const gauge = new TextLengthGauge();
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      gauge.push(chunk);
      if (gauge.least <= options.maxChars) return done(null, chunk);
      const refusal = textTooLong(normalizeFileName(file.originalname));
      const field = options.fieldPath(request, file);
      const message = field.startsWith('files[') ? `${refusal.message} No file of this request was kept.` : refusal.message;
      done(new ApiError(refusal.httpStatus, refusal.code, message, [{ field, message: `${refusal.message} (${refusal.code})` }]));
    },
  });
}
