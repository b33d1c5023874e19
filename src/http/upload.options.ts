import type { MulterOptions } from '@nestjs/platform-express/multer/interfaces/multer-options.interface.js';
import type { AppConfig } from '../config/config.js';
import { uploadTempDir } from '../config/upload-temp-dir.js';
import { MAX_TEXT_CHARS } from '../text/extract.js';
import { fileNameParts } from '../text/file-name.js';
import { ApiError } from '../shared/api-error.js';
import { MAX_MUSIC_BYTES } from '../media/soundtrack.js';
import { gaugedDiskStorage } from './upload-storage.js';

/** Extensions the upload endpoints take (seed: .txt, .doc, .docx). */
export const UPLOAD_EXTENSIONS = ['.txt', '.doc', '.docx'] as const;

const RECEIVED = Symbol('files received per field');
/** The files the story upload filter took (not music), with their {@link filePath}: their text is gauged while they arrive. */
const STORY_FILES = new WeakMap<object, string>();
type Counted = { [RECEIVED]?: Map<string, number> };

/**
 * Error path of a file in a request: `files[i]` in the multi-file field `files`, i counted from 0
 * in the order the files were sent (as `fileIds[i]`), and the field's name otherwise (`file`).
 */
export function filePath(field: string, index: number): string {
  return field === 'files' ? `files[${index}]` : field;
}

/** Counts a file of the request as multer meets it; @returns its {@link filePath}. */
function countFile(request: object, field: string): string {
  const counts = ((request as Counted)[RECEIVED] ??= new Map());
  const index = counts.get(field) ?? 0;
  counts.set(field, index + 1);
  return filePath(field, index);
}

/**
 * The path of the file multer was receiving in `field` when it stopped: the last one counted
 * (busboy reads the parts one after the other), or the next index when it refused one more file
 * than the limit. `field` alone when the request is not known.
 */
export function receivingFilePath(request: object | undefined, field: string, next = false): string {
  const count = request ? (request as Counted)[RECEIVED]?.get(field) : undefined;
  if (count === undefined) return field;
  return filePath(field, next ? count : count - 1);
}

/**
 * Multer settings of the upload endpoints: files stream to disk under server-made names in
 * {@link uploadTempDir} (never into memory); a story file whose text passes {@link MAX_TEXT_CHARS}
 * characters is refused (413) as soon as it does, while it arrives (`gaugedDiskStorage`); file
 * names are read as UTF-8 (multer reads latin1 by
 * default, which garbles `Truyện cổ tích.docx`), and the count and size limits come from the
 * configuration (UPLOAD_MAX_FILES, UPLOAD_MAX_BYTES). Only .txt, .doc and .docx names with a base
 * name are taken ({@link fileNameParts}); refusals name the file as `files[i]` ({@link filePath}).
 */
export function multerOptions(config: AppConfig): MulterOptions {
  const { maxFiles, maxBytes } = config.http.upload;
  return {
    storage: gaugedDiskStorage({
      destination: uploadTempDir(config),
      maxChars: MAX_TEXT_CHARS,
      gauge: (file) => STORY_FILES.has(file),
      fieldPath: (request, file) => STORY_FILES.get(file) ?? receivingFilePath(request, file.fieldname),
    }),
    defParamCharset: 'utf8',
    limits: { files: maxFiles, fileSize: maxBytes, fields: 20, parts: maxFiles + 20, fieldSize: 64 * 1024 },
    fileFilter: (_request, file, callback) => {
      const field = countFile(_request, file.fieldname);
      const { extension, emptyBase } = fileNameParts(file.originalname);
      if (!(UPLOAD_EXTENSIONS as readonly string[]).includes(extension)) {
        const message = `"${file.originalname}": only .txt, .doc and .docx files are taken`;
        callback(new ApiError(415, 'unsupported-format', `"${file.originalname}" is not a .txt, .doc or .docx file`, [{ field, message }]), false);
      } else if (emptyBase) {
        const message = `"${file.originalname}" has no name before ${extension}; name the file, e.g. story${extension}`;
        callback(new ApiError(400, 'invalid-file-name', message, [{ field, message }]), false);
      } else {
        STORY_FILES.set(file, field);
        callback(null, true);
      }
    },
  };
}

/**
 * Multer settings of POST /file-upload/music, over the module's (disk storage, UTF-8 names): one
 * file of at most {@link MAX_MUSIC_BYTES}, any name; the content decides (MusicService.ingest).
 */
export const musicUploadOptions: MulterOptions = {
  limits: { files: 1, fileSize: MAX_MUSIC_BYTES, fields: 5, parts: 6, fieldSize: 64 * 1024 },
  fileFilter: (_request, _file, callback) => callback(null, true),
};
