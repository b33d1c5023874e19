/**
 * Why an uploaded file (or a set of files) could not be turned into story text, with the HTTP
 * status an API answers with. The table is the one place that maps a code to a status; README.md
 * ("Input files") lists the same codes for users.
 *
 * | code | status | meaning |
 * | --- | --- | --- |
 * | `too-many-files` | 400 | more files in one request than a batch takes |
 * | `file-too-large` | 413 | the file (or the text or unpacked document in it) is over a limit |
 * | `unsupported-format` | 415 | a container we recognise that holds no Word document (a spreadsheet, an ODT, Word 6/95) |
 * | `binary-content` | 415 | not text at all (an image, a PDF, a program …), whatever its name says |
 * | `empty-file` | 422 | the file has 0 bytes |
 * | `no-text` | 422 | the file was read, but holds nothing except whitespace |
 * | `unreadable-encoding` | 422 | text whose encoding cannot be told with confidence (invalid UTF-8 / UTF-16, no legacy code page fits) |
 * | `corrupt-document` | 422 | a .doc/.docx that is damaged, cut short, or whose ZIP is not what it claims |
 * | `encrypted-document` | 422 | a password-protected Word file |
 */
export const INTAKE_ERROR_HTTP_STATUS = {
  'too-many-files': 400,
  'file-too-large': 413,
  'unsupported-format': 415,
  'binary-content': 415,
  'empty-file': 422,
  'no-text': 422,
  'unreadable-encoding': 422,
  'corrupt-document': 422,
  'encrypted-document': 422,
} as const satisfies Record<string, 400 | 413 | 415 | 422>;

export type IntakeErrorCode = keyof typeof INTAKE_ERROR_HTTP_STATUS;

/** Every code, in the order of the table above. */
export const INTAKE_ERROR_CODES = Object.keys(INTAKE_ERROR_HTTP_STATUS) as IntakeErrorCode[];

/**
 * A user-facing failure to read an upload. The message says what is wrong with the file and what
 * the user can do about it; `code` is stable and meant for programs (API answers, tests);
 * `fileName` names the file (absent for `too-many-files`).
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

  /** The HTTP status for this refusal (400, 413, 415 or 422), from {@link INTAKE_ERROR_HTTP_STATUS}. */
  get httpStatus(): 400 | 413 | 415 | 422 {
    return INTAKE_ERROR_HTTP_STATUS[this.code];
  }

  /** What an API answers with: `{ code, message, fileName? }` (the status goes in the response line). */
  toJSON(): { code: IntakeErrorCode; message: string; fileName?: string } {
    return { code: this.code, message: this.message, ...(this.fileName !== undefined ? { fileName: this.fileName } : {}) };
  }
}

/** "The file" or `"story.txt"`, for the start of an error message. */
export function describeFile(fileName?: string): string {
  return fileName ? `"${fileName}"` : 'The file';
}
