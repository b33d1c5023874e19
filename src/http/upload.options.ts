import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { MulterOptions } from '@nestjs/platform-express/multer/interfaces/multer-options.interface.js';
import multer from 'multer';
import type { AppConfig } from '../config/config.js';
import { ApiError } from './api-error.js';

/** Extensions the upload endpoints take (seed: .txt, .doc, .docx). */
export const UPLOAD_EXTENSIONS = ['.txt', '.doc', '.docx'] as const;

/** Folder where uploads land while they are received: `DATA_DIR/tmp/uploads`. */
export function uploadTempDir(config: AppConfig): string {
  return path.join(config.dataDir, 'tmp', 'uploads');
}

/**
 * Multer settings of the upload endpoints: files stream to disk under server-made names in
 * {@link uploadTempDir} (never into memory), file names are read as UTF-8 (multer reads latin1 by
 * default, which garbles `Truyện cổ tích.docx`), and the count and size limits come from the
 * configuration (UPLOAD_MAX_FILES, UPLOAD_MAX_BYTES). Only .txt, .doc and .docx names are taken.
 */
export function multerOptions(config: AppConfig): MulterOptions {
  const { maxFiles, maxBytes } = config.http.upload;
  return {
    storage: multer.diskStorage({
      destination: uploadTempDir(config),
      filename: (_request, _file, callback) => callback(null, `${randomUUID()}.upload`),
    }),
    defParamCharset: 'utf8',
    limits: { files: maxFiles, fileSize: maxBytes, fields: 20, parts: maxFiles + 20, fieldSize: 64 * 1024 },
    fileFilter: (_request, file, callback) => {
      const extension = path.extname(file.originalname).toLowerCase();
      if ((UPLOAD_EXTENSIONS as readonly string[]).includes(extension)) {
        callback(null, true);
        return;
      }
      callback(
        new ApiError(415, 'unsupported-format', `"${file.originalname}" is not a .txt, .doc or .docx file`, [
          { field: file.fieldname, message: `"${file.originalname}": only .txt, .doc and .docx files are taken` },
        ]),
        false,
      );
    },
  };
}
