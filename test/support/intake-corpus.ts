import { readdirSync } from 'node:fs';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import type { IntakeErrorCode } from '../../src/text/intake-error.js';
import { normalizeText } from '../../src/text/normalize.js';
import { encodeLegacy } from './legacy-text.js';
import { SAMPLES_DIR, sampleBytes, sampleText } from './samples.js';
import { assembleZip, deflatedZeros, docxPackageParts } from './zip.js';

/** What reading a file must give: the stored text, format and encoding, or a refusal code. */
export type Expected =
  | { text: string; format: 'txt' | 'docx' | 'doc'; encoding: string | null; name?: string }
  | { code: IntakeErrorCode };

export interface IntakeCase {
  /** What the case is, for test names. */
  label: string;
  /** The name the file is uploaded under. */
  fileName: string;
  bytes: () => Buffer;
  expected: Expected;
}

const hoBaBe = () => normalizeText(sampleText('stories/vi/vi_su_tich_ho_ba_be.txt'));

const TABLES_TEXT = 'Above\n\nTop left\tTop right\n\nBottom left\tBottom right\n\nBelow';
const WORD97_TEXT = 'This is a simple file created with Word 97-SR2.';
const UNICODE_HEADERS_TEXT = [
  'This is a fairly simple word document, over two pages, with headers and footers.',
  'The trick with this one is that it contains some Unicode based strings in it.',
  'Firstly, some currency symbols:',
  '\tGBP - £',
  '\tEUR - €',
  'Now, we’ll have some French text, in bold and big:',
  '\tMolière',
  'And some normal French text:',
  "\tL'Avare ou l'École du mensonge",
  'That’s it for page one',
  'This is page two. Les Précieuses ridicules. The end.',
].join('\n\n');

/** Every bundled sample (test/fixtures/samples) with what it must give. */
const SAMPLE_EXPECTATIONS: Record<string, () => Expected> = {
  'encodings/vi_ho_ba_be_nfd.txt': () => ({ text: hoBaBe(), format: 'txt', encoding: 'utf-8' }),
  'encodings/vi_ho_ba_be_utf16le_bom_crlf.txt': () => ({ text: hoBaBe(), format: 'txt', encoding: 'utf-16le' }),
  'encodings/vi_ho_ba_be_utf8_bom.txt': () => ({ text: hoBaBe(), format: 'txt', encoding: 'utf-8-bom' }),
  'docs/mammoth_empty.docx': () => ({ code: 'no-text' }),
  'docs/mammoth_single-paragraph.docx': () => ({ text: 'Walking on imported air', format: 'docx', encoding: null }),
  'docs/mammoth_tables.docx': () => ({ text: TABLES_TEXT, format: 'docx', encoding: null }),
  'docs/pydocx_heading_paragraphs.docx': () => ({ text: 'Heading Paragraph\n\nNormal paragraph', format: 'docx', encoding: null }),
  'docs/nwe_test05_word97.doc': () => ({ text: WORD97_TEXT, format: 'doc', encoding: null }),
  'docs/nwe_test04_unicode_headers.doc': () => ({ text: UNICODE_HEADERS_TEXT, format: 'doc', encoding: null }),
};

/** Paths of every file under test/fixtures/samples except SOURCES.md, e.g. `docs/mammoth_tables.docx`. */
export function allSamplePaths(): string[] {
  return readdirSync(SAMPLES_DIR, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name !== 'SOURCES.md')
    .map((entry) => path.relative(SAMPLES_DIR, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
}

/** Every bundled sample: the stories give their own text (UTF-8), the rest what {@link SAMPLE_EXPECTATIONS} says. */
export function sampleCases(): IntakeCase[] {
  return allSamplePaths().map((relative) => {
    const story = relative.startsWith('stories/');
    const expectation = SAMPLE_EXPECTATIONS[relative];
    if (!story && !expectation) throw new Error(`No expectation for the sample ${relative}: add it to SAMPLE_EXPECTATIONS`);
    return {
      label: `sample ${relative}`,
      fileName: path.posix.basename(relative),
      bytes: () => sampleBytes(relative),
      expected: story ? { text: normalizeText(sampleText(relative)), format: 'txt', encoding: 'utf-8' } : expectation!(),
    };
  });
}

/** A real 1×1 PNG image. */
export function pngImage(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body) >>> 0, body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(1, 0);
  header.writeUInt32BE(1, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.from([0, 0xc0, 0x30, 0x30]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Unpacked size of the zip bomb's document part, MB. */
export const BOMB_MEGABYTES = 400;

/**
 * A .docx whose word/document.xml is {@link BOMB_MEGABYTES} MB of zeros deflated to about 400 KB.
 * With `lie`, the central directory claims 1,000 bytes instead (a bomb that hides its size).
 */
export function zipBomb(options: { lie?: boolean } = {}): Buffer {
  const zeros = deflatedZeros(BOMB_MEGABYTES);
  const stored = Object.entries(docxPackageParts()).map(([name, text]) => ({
    name,
    method: 0 as const,
    data: Buffer.from(text),
    crc: crc32(Buffer.from(text)),
    uncompressedSize: Buffer.byteLength(text),
  }));
  return assembleZip([
    ...stored,
    { name: 'word/document.xml', method: 8, data: zeros.data, crc: zeros.crc, uncompressedSize: options.lie ? 1000 : zeros.size },
  ]);
}

/** The cases made for the corpus (besides the samples), each with what it must give. */
export function generatedCases(maxBytes: number): IntakeCase[] {
  const padded = (size: number) => {
    const text = Buffer.from('Once upon a time, a file was exactly as large as allowed.\n');
    return Buffer.concat([text, Buffer.alloc(size - text.length, 0x20)]);
  };
  return [
    { label: 'empty file', fileName: 'empty.txt', bytes: () => Buffer.alloc(0), expected: { code: 'empty-file' } },
    { label: 'whitespace only', fileName: 'blank.txt', bytes: () => Buffer.from(' \r\n\t\n   \r\n'), expected: { code: 'no-text' } },
    { label: 'PNG renamed .txt', fileName: 'cover.txt', bytes: pngImage, expected: { code: 'binary-content' } },
    {
      label: 'truncated .docx',
      fileName: 'cut.docx',
      bytes: () => {
        const docx = sampleBytes('docs/mammoth_tables.docx');
        return docx.subarray(0, Math.floor(docx.length * 0.6));
      },
      expected: { code: 'corrupt-document' },
    },
    { label: 'zip bomb (400 MB declared)', fileName: 'bomb.docx', bytes: () => zipBomb(), expected: { code: 'file-too-large' } },
    { label: 'zip bomb hiding its size', fileName: 'liar.docx', bytes: () => zipBomb({ lie: true }), expected: { code: 'corrupt-document' } },
    {
      label: '.doc renamed .docx',
      fileName: 'word97.docx',
      bytes: () => sampleBytes('docs/nwe_test05_word97.doc'),
      expected: { text: WORD97_TEXT, format: 'doc', encoding: null },
    },
    {
      label: '.docx renamed .doc',
      fileName: 'tables.doc',
      bytes: () => sampleBytes('docs/mammoth_tables.docx'),
      expected: { text: TABLES_TEXT, format: 'docx', encoding: null },
    },
    {
      label: 'Vietnamese story saved as Windows-1258',
      fileName: 'ho_ba_be_1258.txt',
      bytes: () => encodeLegacy(hoBaBe(), 'windows-1258'),
      expected: { text: hoBaBe(), format: 'txt', encoding: 'windows-1258' },
    },
    {
      label: 'Vietnamese story saved as Windows-1258 with CRLF',
      fileName: 'cay_thi_la_1258.txt',
      bytes: () => encodeLegacy(normalizeText(sampleText('stories/vi/vi_su_tich_cay_thi_la.txt')).replace(/\n/g, '\r\n'), 'windows-1258'),
      expected: { text: normalizeText(sampleText('stories/vi/vi_su_tich_cay_thi_la.txt')), format: 'txt', encoding: 'windows-1258' },
    },
    {
      label: 'French story saved as Windows-1252',
      fileName: 'chaperon_1252.txt',
      bytes: () => encodeLegacy(normalizeText(sampleText('stories/other/fr_perrault_petit_chaperon_rouge.txt')), 'windows-1252'),
      expected: { text: normalizeText(sampleText('stories/other/fr_perrault_petit_chaperon_rouge.txt')), format: 'txt', encoding: 'windows-1252' },
    },
    {
      label: 'English story with curly quotes saved as Windows-1252',
      fileName: 'match_girl_1252.txt',
      bytes: () => encodeLegacy(normalizeText(sampleText('stories/en/en_andersen_little_match_girl.txt')), 'windows-1252'),
      expected: { text: normalizeText(sampleText('stories/en/en_andersen_little_match_girl.txt')), format: 'txt', encoding: 'windows-1252' },
    },
    {
      label: 'Vietnamese file name (sent decomposed)',
      fileName: 'Sự tích Hồ Ba Bể.txt'.normalize('NFD'),
      bytes: () => sampleBytes('stories/vi/vi_su_tich_ho_ba_be.txt'),
      expected: { text: hoBaBe(), format: 'txt', encoding: 'utf-8', name: 'Sự tích Hồ Ba Bể.txt' },
    },
    {
      label: 'Vietnamese file name garbled by a Latin-1 multipart parser',
      fileName: Buffer.from('Truyện cổ tích.txt').toString('latin1'),
      bytes: () => sampleBytes('stories/vi/vi_thanh_giong.txt'),
      expected: { text: normalizeText(sampleText('stories/vi/vi_thanh_giong.txt')), format: 'txt', encoding: 'utf-8', name: 'Truyện cổ tích.txt' },
    },
    {
      label: `exactly the size limit (${maxBytes} bytes)`,
      fileName: 'at-limit.txt',
      bytes: () => padded(maxBytes),
      expected: { text: 'Once upon a time, a file was exactly as large as allowed.', format: 'txt', encoding: 'utf-8' },
    },
    { label: `one byte over the size limit (${maxBytes + 1} bytes)`, fileName: 'over-limit.txt', bytes: () => padded(maxBytes + 1), expected: { code: 'file-too-large' } },
  ];
}
