import { isUtf8 } from 'node:buffer';
import { IntakeError, describeFile } from './intake-error.js';
import { decodeLegacy, type LegacyEncodingName } from './legacy-encoding.js';
import type { VietnameseFontEncoding } from './vietnamese-font-encoding.js';

/** How the bytes of a text file were read (stored with the upload as `encoding`). */
export type TextEncodingName = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be' | LegacyEncodingName | VietnameseFontEncoding;

export interface DecodedText {
  /** The text as decoded: no byte-order mark, otherwise untouched (run `normalizeText` next). */
  text: string;
  encoding: TextEncodingName;
}

/** File signatures of common non-text files, checked before any decoding. */
const BINARY_SIGNATURES: ReadonlyArray<{ kind: string; matches: (bytes: Uint8Array) => boolean }> = [
  { kind: 'a PNG image', matches: (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { kind: 'a JPEG image', matches: (b) => startsWith(b, [0xff, 0xd8, 0xff]) },
  { kind: 'a GIF image', matches: (b) => startsWithAscii(b, 'GIF87a') || startsWithAscii(b, 'GIF89a') },
  { kind: 'a PDF document', matches: (b) => startsWithAscii(b, '%PDF-') },
  { kind: 'a program (ELF)', matches: (b) => startsWith(b, [0x7f, 0x45, 0x4c, 0x46]) },
  // "MZ" alone could begin a text, so a Windows program also needs a NUL byte in its header.
  { kind: 'a Windows program', matches: (b) => startsWithAscii(b, 'MZ') && b.subarray(0, 64).includes(0) },
  { kind: 'a gzip archive', matches: (b) => startsWith(b, [0x1f, 0x8b]) },
  { kind: 'a ZIP archive', matches: (b) => startsWith(b, [0x50, 0x4b, 0x03, 0x04]) },
  { kind: 'a Word or Office file', matches: (b) => startsWith(b, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]) },
];

/**
 * Decodes the bytes of a plain-text upload.
 *
 * Order of checks: empty file; known binary signatures (PNG, JPEG, GIF, PDF, ELF, MZ, gzip, ZIP, OLE);
 * byte-order mark (UTF-8 `EF BB BF`, UTF-16LE `FF FE`, UTF-16BE `FE FF`); UTF-16 without a BOM
 * (recognised by NUL high bytes); NUL bytes in anything else (binary); strict UTF-8; then, for
 * what is not UTF-8: control bytes in more than 1% of the file (binary); a file whose non-ASCII
 * bytes are at least 90% valid UTF-8 sequences (damaged or mixed UTF-8: refused, since any legacy
 * reading of it would turn its UTF-8 letters into mojibake); a legacy code page detected by `decodeLegacy`
 * (Windows-1252, Windows-1258 and the others chardet recognises, checked for plausible text; then
 * Vietnamese in the TCVN3 or VNI font encoding, checked syllable by syllable).
 * Decoding is always strict: a byte that has no character in the chosen encoding is an error,
 * never a silent U+FFFD.
 *
 * @param bytes the whole file
 * @param fileName original name, used only in error messages
 * @returns the text (BOM removed; a legacy decoding is also NFC, line ends untouched) and the encoding
 * @throws IntakeError `empty-file` (0 bytes), `binary-content` (not a text file),
 *   `unreadable-encoding` (invalid UTF-8 / UTF-16, and no legacy encoding fits with confidence)
 */
export function decodeText(bytes: Uint8Array, fileName?: string): DecodedText {
  const name = describeFile(fileName);
  if (bytes.length === 0) {
    throw new IntakeError('empty-file', `${name} is empty (0 bytes); upload a file that contains the story.`, fileName);
  }
  const signature = BINARY_SIGNATURES.find((s) => s.matches(bytes));
  if (signature) {
    throw new IntakeError(
      'binary-content',
      `${name} is ${signature.kind}, not text; upload the story as a .txt, .doc or .docx file.`,
      fileName,
    );
  }

  const decoded = decodeWithBom(bytes, fileName) ?? decodeUtf16WithoutBom(bytes) ?? decodeUtf8OrLegacy(bytes, fileName);
  if (decoded.text.includes('\u0000')) {
    throw notText(fileName);
  }
  return decoded;
}

function decodeWithBom(bytes: Uint8Array, fileName?: string): DecodedText | undefined {
  if (startsWith(bytes, [0xef, 0xbb, 0xbf])) {
    return { text: strict('utf-8', bytes.subarray(3), fileName, 'UTF-8'), encoding: 'utf-8-bom' };
  }
  if (startsWith(bytes, [0xff, 0xfe])) {
    return { text: strict('utf-16le', bytes.subarray(2), fileName, 'UTF-16'), encoding: 'utf-16le' };
  }
  if (startsWith(bytes, [0xfe, 0xff])) {
    return { text: strict('utf-16le', swapBytes(bytes.subarray(2)), fileName, 'UTF-16'), encoding: 'utf-16be' };
  }
  return undefined;
}

/**
 * UTF-16 saved without a BOM shows as NUL bytes in every other position (the high byte of ASCII
 * characters). Recognised only when every NUL is on the same side, there are many of them, and
 * the result decodes strictly to text without control characters; otherwise left to the next step.
 */
function decodeUtf16WithoutBom(bytes: Uint8Array): DecodedText | undefined {
  if (bytes.length < 4 || bytes.length % 2 !== 0 || !bytes.includes(0)) return undefined;
  let evenNuls = 0;
  let oddNuls = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) {
      if (i % 2 === 0) evenNuls++;
      else oddNuls++;
    }
  }
  const pairs = bytes.length / 2;
  const encoding: TextEncodingName | undefined =
    evenNuls === 0 && oddNuls >= pairs / 4 ? 'utf-16le' : oddNuls === 0 && evenNuls >= pairs / 4 ? 'utf-16be' : undefined;
  if (!encoding) return undefined;
  try {
    const source = encoding === 'utf-16be' ? swapBytes(bytes) : bytes;
    const text = new TextDecoder('utf-16le', { fatal: true, ignoreBOM: true }).decode(source);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0008\u000e-\u001f]/.test(text)) return undefined;
    return { text, encoding };
  } catch {
    return undefined;
  }
}

function decodeUtf8OrLegacy(bytes: Uint8Array, fileName?: string): DecodedText {
  if (bytes.includes(0)) {
    throw notText(fileName);
  }
  // isUtf8 and toString are strict UTF-8 too, and several times faster than a fatal TextDecoder.
  if (isUtf8(bytes)) return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), encoding: 'utf-8' };
  // Not UTF-8: a legacy code page, a damaged UTF-8 file, or not text.
  const name = describeFile(fileName);
  if (controlByteCount(bytes) > bytes.length * MAX_CONTROL_SHARE) {
    throw new IntakeError(
      'binary-content',
      `${name} contains binary data (control codes), not text; upload the story as a .txt, .doc or .docx file.`,
      fileName,
    );
  }
  const utf8 = inspectUtf8(bytes);
  if (utf8.validBytes >= utf8.nonAsciiBytes * MOSTLY_UTF8) {
    throw new IntakeError(
      'unreadable-encoding',
      `${name} is mostly UTF-8 text but has ${utf8.invalidBytes} invalid byte${utf8.invalidBytes === 1 ? '' : 's'} (the first at byte ${utf8.firstInvalid}); it may be cut short or mix two encodings. Open it in a text editor, save it as UTF-8 and upload it again.`,
      fileName,
    );
  }
  const legacy = decodeLegacy(bytes);
  if (legacy.ok) return { text: legacy.text, encoding: legacy.encoding };
  if (legacy.vietnameseFontEncoding) {
    throw new IntakeError(
      'unreadable-encoding',
      `${name} looks like Vietnamese typed with a legacy font encoding (VNI or TCVN3/ABC), which cannot be read reliably; convert it to Unicode (for example with UniKey's converter) and save it as UTF-8, then upload it again.`,
      fileName,
    );
  }
  throw new IntakeError(
    'unreadable-encoding',
    `${name} is not UTF-8 or UTF-16 text, and no other encoding (such as Windows-1252 or Windows-1258) reads it as plausible text; save it as UTF-8 and upload again.`,
    fileName,
  );
}

/** Control bytes other than tab, line ends, form feed, SUB (DOS end of file) and ESC. */
function controlByteCount(bytes: Uint8Array): number {
  let n = 0;
  for (const b of bytes) if (b < 0x20 && !CONTROL_BYTES_IN_TEXT.has(b)) n++;
  return n;
}
const CONTROL_BYTES_IN_TEXT = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1a, 0x1b]);
/** More control bytes than this share of the file: binary, not text. */
const MAX_CONTROL_SHARE = 0.01;
/** A file whose non-ASCII bytes are at least this share valid UTF-8 sequences is UTF-8, damaged. */
const MOSTLY_UTF8 = 0.9;

/** Non-ASCII bytes, how many of them form valid UTF-8 sequences, and where the first invalid one is. */
function inspectUtf8(bytes: Uint8Array): { nonAsciiBytes: number; validBytes: number; invalidBytes: number; firstInvalid: number } {
  let nonAsciiBytes = 0;
  let validBytes = 0;
  let firstInvalid = -1;
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i]!;
    if (lead < 0x80) {
      i++;
      continue;
    }
    const length = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    let valid = length > 0 && i + length <= bytes.length;
    for (let k = 1; valid && k < length; k++) valid = (bytes[i + k]! & 0xc0) === 0x80;
    if (valid) {
      nonAsciiBytes += length;
      validBytes += length;
      i += length;
    } else {
      nonAsciiBytes++;
      if (firstInvalid < 0) firstInvalid = i;
      i++;
    }
  }
  return { nonAsciiBytes, validBytes, invalidBytes: nonAsciiBytes - validBytes, firstInvalid };
}

/** Strict decoding of a file that starts with a byte-order mark: the mark promises the encoding. */
function strict(label: 'utf-8' | 'utf-16le', bytes: Uint8Array, fileName: string | undefined, shown: string): string {
  try {
    return new TextDecoder(label, { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (cause) {
    throw new IntakeError(
      'unreadable-encoding',
      `${describeFile(fileName)} is not valid ${shown} text, although it starts with a ${shown} byte-order mark; save it as UTF-8 and upload again.`,
      fileName,
      { cause },
    );
  }
}

function notText(fileName?: string): IntakeError {
  return new IntakeError(
    'binary-content',
    `${describeFile(fileName)} contains binary data (NUL bytes), not text; upload the story as a .txt, .doc or .docx file.`,
    fileName,
  );
}

function swapBytes(bytes: Uint8Array): Uint8Array {
  // A stray last byte (odd length) is kept, so that strict UTF-16 decoding rejects it.
  const swapped = Uint8Array.from(bytes);
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    swapped[i] = bytes[i + 1];
    swapped[i + 1] = bytes[i];
  }
  return swapped;
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

function startsWithAscii(bytes: Uint8Array, prefix: string): boolean {
  return startsWith(bytes, [...prefix].map((c) => c.charCodeAt(0)));
}
