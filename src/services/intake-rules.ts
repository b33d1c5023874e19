import type { AppConfig } from '../config/config.js';
import { IntakeError, describeFile } from '../text/intake-error.js';

/**
 * The rules of intake in one place, for the HTTP endpoints, the command line and the upload
 * service: the limits (from the configuration), the refusal codes and their HTTP statuses.
 *
 * | limit | default | set by | refused as |
 * | --- | --- | --- | --- |
 * | files per request (batch) | 10 | `UPLOAD_MAX_FILES` | `too-many-files` (400) |
 * | bytes per file | 10 MB | `UPLOAD_MAX_BYTES` | `file-too-large` (413) |
 * | characters of text per file | 2,000,000 | {@link MAX_TEXT_CHARS} | `file-too-large` (413) |
 * | .docx parts / unpacked bytes / XML bytes / ratio | 1,000 / 100 MB / 10 MB / 100:1 | {@link DOCX_ZIP_LIMITS} | `file-too-large` (413) |
 *
 * Every other refusal is about the content: see {@link INTAKE_ERROR_HTTP_STATUS}.
 */
export { IntakeError, INTAKE_ERROR_CODES, INTAKE_ERROR_HTTP_STATUS, type IntakeErrorCode } from '../text/intake-error.js';
export { MAX_TEXT_CHARS } from '../text/extract.js';
export { DOCX_ZIP_LIMITS } from '../text/zip-check.js';
export { normalizeFileName } from '../text/file-name.js';

export interface UploadLimits {
  /** Most files in one request (one batch). */
  maxFiles: number;
  /** Largest file, bytes. */
  maxBytes: number;
}

/** The limits when nothing is configured (seed: a batch of at most 10 files of at most 10 MB). */
export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { maxFiles: 10, maxBytes: 10 * 1024 * 1024 };

/** The configured limits (`UPLOAD_MAX_FILES`, `UPLOAD_MAX_BYTES`). */
export function uploadLimits(config: AppConfig): UploadLimits {
  return { maxFiles: config.http.upload.maxFiles, maxBytes: config.http.upload.maxBytes };
}

/** @throws IntakeError `too-many-files` when `count` is over the limit. */
export function checkFileCount(count: number, limits: UploadLimits): void {
  if (count > limits.maxFiles) throw tooManyFilesError(count, limits);
}

/** @throws IntakeError `file-too-large` when `sizeBytes` is over the limit. */
export function checkFileSize(sizeBytes: number, fileName: string | undefined, limits: UploadLimits): void {
  if (sizeBytes > limits.maxBytes) throw fileTooLargeError(fileName, sizeBytes, limits);
}

/** The refusal of a request with too many files; `count` may be unknown (a parser that stopped counting). */
export function tooManyFilesError(count: number | undefined, limits: UploadLimits): IntakeError {
  const sent = count === undefined ? `More than ${limits.maxFiles} files were sent` : `${count} files were sent`;
  return new IntakeError('too-many-files', `${sent}; one batch takes at most ${limits.maxFiles}. Send the others in another batch.`);
}

/** The refusal of a file over the size limit; `sizeBytes` may be unknown (a parser that stopped reading). */
export function fileTooLargeError(fileName: string | undefined, sizeBytes: number | undefined, limits: UploadLimits): IntakeError {
  const size = sizeBytes === undefined ? 'is larger than' : `is ${sizeBytes.toLocaleString('en')} bytes, more than`;
  return new IntakeError(
    'file-too-large',
    `${describeFile(fileName)} ${size} the ${formatBytes(limits.maxBytes)} a file may have; split the story into smaller files.`,
    fileName,
  );
}

/** "10 MB", "512 KB" or "1,000 bytes". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${(bytes / (1024 * 1024)).toLocaleString('en')} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${(bytes / 1024).toLocaleString('en')} KB`;
  return `${bytes.toLocaleString('en')} bytes`;
}
