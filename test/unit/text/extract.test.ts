import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { detectFormat, extractText } from '../../../src/text/extract.js';
import { IntakeError, type IntakeErrorCode } from '../../../src/text/intake-error.js';
import { normalizeText } from '../../../src/text/normalize.js';
import { sampleBytes, sampleText } from '../../support/samples.js';

async function rejection(promise: Promise<unknown>): Promise<IntakeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IntakeError);
  return error as IntakeError;
}

async function expectCode(bytes: Uint8Array, code: IntakeErrorCode, fileName?: string): Promise<IntakeError> {
  const error = await rejection(extractText(bytes, fileName));
  expect(error.code).toBe(code);
  return error;
}

/** A ZIP archive with stored (uncompressed) entries. */
function zip(entries: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(entries)) {
    const nameBytes = Buffer.from(name);
    const data = Buffer.from(content);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** An OLE compound file (512-byte sectors) whose directory lists the given streams; no stream data. */
function oleWithStreams(names: string[]): Buffer {
  const file = Buffer.alloc(1024);
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(file, 0);
  file.writeUInt16LE(0x003e, 0x18);
  file.writeUInt16LE(0x0003, 0x1a);
  file.writeUInt16LE(0xfffe, 0x1c);
  file.writeUInt16LE(9, 0x1e);
  file.writeUInt16LE(6, 0x20);
  file.writeUInt32LE(0, 0x30);
  ['Root Entry', ...names].forEach((name, i) => {
    const entry = 512 + i * 128;
    file.write(name, entry, 'utf16le');
    file.writeUInt16LE((name.length + 1) * 2, entry + 0x40);
    file[entry + 0x42] = i === 0 ? 5 : 2;
  });
  return file;
}

/** A copy of the real Word 97 sample with its File Information Block changed. */
function word97With(change: (fib: number, doc: Buffer) => void): Buffer {
  const doc = Buffer.from(sampleBytes('docs/nwe_test05_word97.doc'));
  let fib = -1;
  for (let offset = 512; offset < doc.length; offset += 512) {
    if (doc.readUInt16LE(offset) === 0xa5ec) {
      fib = offset;
      break;
    }
  }
  expect(fib).toBeGreaterThan(0);
  change(fib, doc);
  return doc;
}

describe('detectFormat', () => {
  it('tells the format from the first bytes, not the name', () => {
    expect(detectFormat(sampleBytes('docs/mammoth_tables.docx'))).toBe('docx');
    expect(detectFormat(sampleBytes('docs/nwe_test05_word97.doc'))).toBe('doc');
    expect(detectFormat(sampleBytes('stories/en/en_grimm_frog_prince.txt'))).toBe('txt');
    expect(detectFormat(new Uint8Array(0))).toBe('txt');
  });
});

describe('extractText on real files', () => {
  it('reads a .txt story as normalised text with its encoding', async () => {
    const result = await extractText(sampleBytes('encodings/vi_ho_ba_be_utf16le_bom_crlf.txt'));
    expect(result).toEqual({
      text: normalizeText(sampleText('stories/vi/vi_su_tich_ho_ba_be.txt')),
      format: 'txt',
      encoding: 'utf-16le',
    });
  });

  it('mammoth_tables.docx: the table cells are in the text, between the paragraphs around the table', async () => {
    const result = await extractText(sampleBytes('docs/mammoth_tables.docx'));
    expect(result.format).toBe('docx');
    expect(result.encoding).toBeUndefined();
    expect(result.text).toBe('Above\n\nTop left\n\nTop right\n\nBottom left\n\nBottom right\n\nBelow');
  });

  it('pydocx_heading_paragraphs.docx: heading and paragraph are separate paragraphs', async () => {
    expect((await extractText(sampleBytes('docs/pydocx_heading_paragraphs.docx'))).text).toBe(
      'Heading Paragraph\n\nNormal paragraph',
    );
  });

  it('nwe_test05_word97.doc gives its text', async () => {
    const result = await extractText(sampleBytes('docs/nwe_test05_word97.doc'));
    expect(result).toEqual({ text: 'This is a simple file created with Word 97-SR2.', format: 'doc' });
  });

  it('nwe_test04_unicode_headers.doc: body text with £ € and accents, paragraphs blank-line separated, no headers', async () => {
    const { text, format } = await extractText(sampleBytes('docs/nwe_test04_unicode_headers.doc'));
    expect(format).toBe('doc');
    expect(text).toContain('GBP - £');
    expect(text).toContain('EUR - €');
    expect(text).toContain("L'Avare ou l'École du mensonge");
    expect(text).toContain('over two pages, with headers and footers.\n\nThe trick with this one');
    expect(text.endsWith('This is page two. Les Précieuses ridicules. The end.')).toBe(true);
    expect(text).not.toContain('This is a simple header');
  });

  it('reads a .doc passed as a Uint8Array view into a larger buffer', async () => {
    const doc = sampleBytes('docs/nwe_test05_word97.doc');
    const padded = new Uint8Array(doc.length + 16);
    padded.set(doc, 16);
    expect((await extractText(padded.subarray(16))).text).toBe('This is a simple file created with Word 97-SR2.');
  });
});

describe('extractText refusals', () => {
  it('mammoth_empty.docx → no-text', async () => {
    const error = await expectCode(sampleBytes('docs/mammoth_empty.docx'), 'no-text', 'mammoth_empty.docx');
    expect(error.message).toContain('"mammoth_empty.docx" contains no text');
  });

  it('a whitespace-only .txt → no-text', async () => {
    await expectCode(Buffer.from(' \r\n\t\n  '), 'no-text');
  });

  it('0 bytes → empty-file', async () => {
    await expectCode(new Uint8Array(0), 'empty-file', 'story.docx');
  });

  it('a PNG renamed .txt → binary-content', async () => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64)]);
    await expectCode(png, 'binary-content', 'story.txt');
  });

  it('invalid UTF-8 → unreadable-encoding', async () => {
    await expectCode(Buffer.from([0x48, 0xe9, 0x6c, 0x6c, 0x6f]), 'unreadable-encoding');
  });

  it('a damaged ZIP → corrupt-document', async () => {
    await expectCode(Buffer.from('PK\x03\x04 this is not really a zip file'), 'corrupt-document');
  });

  it('a .docx cut in half → corrupt-document', async () => {
    const docx = sampleBytes('docs/mammoth_tables.docx');
    const error = await expectCode(docx.subarray(0, docx.length >> 1), 'corrupt-document', 'half.docx');
    expect(error.message).toMatch(/^"half\.docx" is damaged or incomplete/);
  });

  it('a ZIP that holds no Word document → unsupported-format', async () => {
    await expectCode(zip({ mimetype: 'application/vnd.oasis.opendocument.text' }), 'unsupported-format');
  });

  it('a password-protected .docx (OLE with EncryptionInfo and EncryptedPackage) → encrypted-document', async () => {
    const error = await expectCode(
      oleWithStreams(['EncryptionInfo', 'EncryptedPackage', '\u0006DataSpaces']),
      'encrypted-document',
      'secret.docx',
    );
    expect(error.message).toContain('password');
  });

  it('a Word 97 .doc with the fEncrypted flag → encrypted-document', async () => {
    const doc = word97With((fib, bytes) => bytes.writeUInt16LE(bytes.readUInt16LE(fib + 0x0a) | 0x0100, fib + 0x0a));
    await expectCode(doc, 'encrypted-document');
  });

  it('a Word 6/95 .doc → unsupported-format', async () => {
    await expectCode(word97With((fib, bytes) => bytes.writeUInt16LE(0xa5dc, fib)), 'unsupported-format');
  });

  it('an Office file that is not a Word document (a workbook) → unsupported-format', async () => {
    await expectCode(oleWithStreams(['Workbook', '\u0005SummaryInformation']), 'unsupported-format');
  });

  it('an OLE signature followed by garbage → corrupt-document', async () => {
    const ole = Buffer.alloc(2048, 0x41);
    Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(ole, 0);
    await expectCode(ole, 'corrupt-document');
  });

  it('a Word 97 .doc cut short → corrupt-document', async () => {
    const doc = sampleBytes('docs/nwe_test05_word97.doc');
    await expectCode(doc.subarray(0, 3000), 'corrupt-document');
  });
});
