import { IntakeError, describeFile } from './intake-error.js';

/** How the bytes of a text file were read. */
export type TextEncodingName = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be';

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
 * (recognised by NUL high bytes); NUL bytes in anything else (binary); then strict UTF-8.
 * Decoding is always strict: a byte sequence that is invalid in the chosen encoding is an error,
 * never a silent U+FFFD. Legacy code pages (Windows-1252, TCVN3, VNI …) are not read yet: add a
 * decoder step before the final error, with iconv-lite.
 *
 * @param bytes the whole file
 * @param fileName original name, used only in error messages
 * @returns the text (BOM removed, line ends and normalisation untouched) and the encoding found
 * @throws IntakeError `empty-file` (0 bytes), `binary-content` (not a text file),
 *   `unreadable-encoding` (invalid UTF-8 / UTF-16)
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

  const decoded = decodeWithBom(bytes, fileName) ?? decodeUtf16WithoutBom(bytes) ?? decodeUtf8(bytes, fileName);
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

function decodeUtf8(bytes: Uint8Array, fileName?: string): DecodedText {
  if (bytes.includes(0)) {
    throw notText(fileName);
  }
  return { text: strict('utf-8', bytes, fileName, 'UTF-8'), encoding: 'utf-8' };
}

function strict(label: 'utf-8' | 'utf-16le', bytes: Uint8Array, fileName: string | undefined, shown: string): string {
  try {
    return new TextDecoder(label, { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (cause) {
    const declared = shown === 'UTF-8' ? 'valid UTF-8 or UTF-16 text' : `valid ${shown} text, although it starts with a ${shown} byte-order mark`;
    throw new IntakeError(
      'unreadable-encoding',
      `${describeFile(fileName)} is not ${declared}; save it as UTF-8 and upload again.`,
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
