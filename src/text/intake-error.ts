/**
 * Why an uploaded file could not be turned into story text.
 *
 * - `empty-file`: the file has 0 bytes.
 * - `no-text`: the file was read, but nothing except whitespace is in it.
 * - `unreadable-encoding`: the bytes are not valid text in an encoding we read (UTF-8, UTF-16).
 * - `binary-content`: the bytes are not text at all (an image, a PDF, a program …).
 * - `corrupt-document`: a .doc/.docx file that is damaged or cut short.
 * - `encrypted-document`: a password-protected Word file.
 * - `unsupported-format`: a container we recognise that holds no Word document (e.g. a spreadsheet).
 */
export type IntakeErrorCode =
  | 'empty-file'
  | 'no-text'
  | 'unreadable-encoding'
  | 'binary-content'
  | 'corrupt-document'
  | 'encrypted-document'
  | 'unsupported-format'
  | 'file-too-large';

/**
 * A user-facing failure to read an upload. The message says what is wrong with the file and what
 * the user can do about it; `code` is stable and meant for programs (API answers, tests).
 */
export class IntakeError extends Error {
  constructor(
    readonly code: IntakeErrorCode,
    message: string,
    readonly fileName?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'IntakeError';
  }
}

/** "The file" or `"story.txt"`, for the start of an error message. */
export function describeFile(fileName?: string): string {
  return fileName ? `"${fileName}"` : 'The file';
}
