import mammoth from 'mammoth';
import { decodeText, type TextEncodingName } from './decode.js';
import { readDoc } from './doc-reader.js';
import { documentText, type MammothElement, TextTooLongError } from './docx-text.js';
import { IntakeError, describeFile } from './intake-error.js';
import { normalizeText } from './normalize.js';
import { checkDocxZip } from './zip-check.js';

/** The upload formats Storyforge reads. */
export type UploadFormat = 'txt' | 'docx' | 'doc';

export interface ExtractedText {
  /** Normalised text (see `normalizeText`): NFC, LF line ends, paragraphs separated by blank lines in Word files. */
  text: string;
  format: UploadFormat;
  /**
   * How a .txt file was decoded: `utf-8`, `utf-8-bom`, `utf-16le`, `utf-16be`, a legacy code
   * page such as `windows-1252` or `windows-1258`, or a Vietnamese font encoding (`tcvn3`, `vni`);
   * absent for Word files.
   */
  encoding?: TextEncodingName;
}

/**
 * Most characters of text one upload may give (about 350,000 words, a long novel); more is
 * refused as `file-too-large`. It bounds the text kept per upload whatever the format, and stops a
 * .docx whose XML unpacks to far more text than its size suggests while it is being read.
 */
export const MAX_TEXT_CHARS = 2_000_000;

const ZIP_SIGNATURE = [0x50, 0x4b, 0x03, 0x04];
const OLE_SIGNATURE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

/**
 * Tells the format of an upload from its first bytes, never from its name: a ZIP archive
 * (`PK\x03\x04`) is taken as .docx, an OLE compound file (`D0 CF 11 E0 A1 B1 1A E1`) as .doc,
 * anything else as text. (Whether the ZIP or OLE file really holds a Word document is checked
 * while extracting.)
 */
export function detectFormat(bytes: Uint8Array): UploadFormat {
  if (startsWith(bytes, ZIP_SIGNATURE)) return 'docx';
  if (startsWith(bytes, OLE_SIGNATURE)) return 'doc';
  return 'txt';
}

/**
 * Extracts the text of an upload (.txt, .docx or .doc, told apart by {@link detectFormat}).
 *
 * - txt: `decodeText` (BOM, strict UTF-8 / UTF-16, then a detected legacy code page);
 * - docx (one at a time per process, as they take memory, not time, side by side): the ZIP container is checked first (`checkDocxZip`: entry count, unpacked size,
 *   compression ratio, sizes that match the directory), then mammoth reads the body: one blank line
 *   between paragraphs, each table row on one line (cells separated by a tab), no footnotes,
 *   endnotes, comments, headers or footers;
 * - doc: the compound file's streams are read with `cfb` (regular and mini-stream) to refuse
 *   encrypted, Word 6/95 and non-Word files, then word-extractor's main body (headers, footers,
 *   footnotes left out, quotes and dashes kept as written), one blank line between paragraphs; both
 *   run in a child process with a heap and time limit (`readDoc`), as a crafted file can make them loop.
 * The result goes through `normalizeText` and may hold at most {@link MAX_TEXT_CHARS} characters.
 *
 * @param bytes the whole file
 * @param fileName original name, used only in error messages
 * @throws IntakeError `empty-file`, `binary-content`, `unreadable-encoding` (from decoding);
 *   `file-too-large` (more than {@link MAX_TEXT_CHARS} characters, or a .docx over a ZIP limit);
 *   `corrupt-document` (damaged ZIP or OLE file, or a Word file that cannot be parsed);
 *   `encrypted-document` (password-protected Word file); `unsupported-format` (a ZIP or Office
 *   file that holds no Word document, or a Word 6/95 file); `no-text` (nothing but whitespace)
 */
export async function extractText(bytes: Uint8Array, fileName?: string): Promise<ExtractedText> {
  const format = detectFormat(bytes);
  let result: ExtractedText;
  if (format === 'txt') {
    const decoded = decodeText(bytes, fileName);
    result = { text: normalizeText(decoded.text), format, encoding: decoded.encoding };
  } else {
    const raw = format === 'docx' ? await inTurn(() => extractDocx(bytes, fileName)) : await extractDoc(bytes, fileName);
    result = { text: normalizeText(raw), format };
  }
  if (result.text.length > MAX_TEXT_CHARS) throw textTooLong(fileName);
  if (result.text.trim() === '') {
    throw new IntakeError(
      'no-text',
      `${describeFile(fileName)} contains no text; check that it is the right file and that the story is not only in images.`,
      fileName,
    );
  }
  return result;
}

/** The .docx being unpacked in this process, or the last one (settled). */
let unpacking: Promise<unknown> = Promise.resolve();

/**
 * Runs `work` once the .docx files before it are done: one at a time per process. mammoth unpacks
 * and parses a whole document.xml into a tree on the one JavaScript thread, so running several at
 * once takes no less time, only more memory (a 1.5 M-character document takes about 15-25 MB of
 * heap while it is read; ten at once took 60-80 MB more than one at a time).
 */
function inTurn<T>(work: () => Promise<T>): Promise<T> {
  const result = unpacking.then(work, work);
  unpacking = result.catch(() => undefined);
  return result;
}

async function extractDocx(bytes: Uint8Array, fileName?: string): Promise<string> {
  await checkDocxZip(bytes, fileName);
  let text: string | undefined;
  try {
    // mammoth reads the document model and hands it to transformDocument before making HTML;
    // the text is taken from the model there, and an empty body is handed back so that no HTML is made.
    await mammoth.convertToHtml(
      { buffer: toBuffer(bytes) },
      {
        transformDocument: (document: MammothElement) => {
          text = documentText(document, MAX_TEXT_CHARS);
          return { ...document, children: [] };
        },
      },
    );
  } catch (cause) {
    if (cause instanceof TextTooLongError) throw textTooLong(fileName);
    const message = cause instanceof Error ? cause.message : String(cause);
    if (/main document part/i.test(message)) {
      throw new IntakeError(
        'unsupported-format',
        `${describeFile(fileName)} is a ZIP archive but not a Word .docx document; upload the story as .docx, .doc or .txt.`,
        fileName,
        { cause },
      );
    }
    throw corrupt(fileName, cause);
  }
  if (text === undefined) throw corrupt(fileName, new Error('mammoth gave no document'));
  return text;
}

/** The refusal of a file whose text has more than {@link MAX_TEXT_CHARS} characters (`file-too-large`, 413). */
export function textTooLong(fileName?: string): IntakeError {
  return new IntakeError(
    'file-too-large',
    `${describeFile(fileName)} holds more than ${MAX_TEXT_CHARS.toLocaleString('en')} characters of text (about 350,000 words), the most one story may have; split it into several files.`,
    fileName,
  );
}

async function extractDoc(bytes: Uint8Array, fileName?: string): Promise<string> {
  const reading = await readDoc(bytes);
  if (!reading.ok) throw corrupt(fileName, new Error(reading.reason));
  const streams = new Set(reading.streams);
  if (streams.has('EncryptionInfo') || streams.has('EncryptedPackage') || reading.wordEncrypted) {
    throw new IntakeError(
      'encrypted-document',
      `${describeFile(fileName)} is protected with a password; open it in Word, remove the password (File > Info > Protect Document) and upload it again.`,
      fileName,
    );
  }
  if (!streams.has('WordDocument')) {
    throw new IntakeError(
      'unsupported-format',
      `${describeFile(fileName)} is an Office file but not a Word document (a spreadsheet or presentation?); upload the story as .docx, .doc or .txt.`,
      fileName,
    );
  }
  if (reading.wordIdent !== undefined && reading.wordIdent !== WORD97_IDENT) {
    throw new IntakeError(
      'unsupported-format',
      `${describeFile(fileName)} is from Word 6 or Word 95, which cannot be read; open it in Word, save it as .docx and upload again.`,
      fileName,
    );
  }
  if (reading.body === undefined) throw corrupt(fileName, new Error(reading.bodyError ?? 'the WordDocument stream has no File Information Block'));
  // word-extractor ends each paragraph with one line break; make paragraphs blank-line separated.
  // filterUnicode: false keeps curly quotes, dashes and en/em spaces as written (its default makes them ASCII).
  return normalizeText(reading.body).replace(/\n+/g, '\n\n');
}

/** The File Information Block of a Word 97-2003 document starts with this identifier. */
const WORD97_IDENT = 0xa5ec;

function corrupt(fileName: string | undefined, cause: unknown): IntakeError {
  return new IntakeError(
    'corrupt-document',
    `${describeFile(fileName)} is damaged or incomplete and cannot be read as a Word document; open it in Word, save it again (or save it as .txt) and upload the new file.`,
    fileName,
    { cause },
  );
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}
