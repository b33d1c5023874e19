import { describe, expect, it } from 'vitest';
import { DOC_TIME_LIMIT_MS } from '../../../src/text/doc-reader.js';
import { detectFormat, extractText, MAX_TEXT_CHARS } from '../../../src/text/extract.js';
import { IntakeError, type IntakeErrorCode } from '../../../src/text/intake-error.js';
import { normalizeText } from '../../../src/text/normalize.js';
import { docFixture, oleWithStreams, withLoopedChain, withWordDocument, word97With } from '../../support/ole.js';
import { sampleBytes, sampleText } from '../../support/samples.js';
import {
  assembleZip,
  deflatedZeros,
  documentXml,
  docxPackageParts,
  minimalDocx,
  notesXml,
  paragraph,
  WORD_NAMESPACES,
  zip,
} from '../../support/zip.js';

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

  it('mammoth_tables.docx: each table row is one line (cells separated by a tab), between the paragraphs around the table', async () => {
    const result = await extractText(sampleBytes('docs/mammoth_tables.docx'));
    expect(result.format).toBe('docx');
    expect(result.encoding).toBeUndefined();
    expect(result.text).toBe('Above\n\nTop left\tTop right\n\nBottom left\tBottom right\n\nBelow');
    expect(result.text.split('\n')).toContain('Top left\tTop right');
  });

  it('mammoth_single-paragraph.docx gives its one paragraph', async () => {
    const { text } = await extractText(sampleBytes('docs/mammoth_single-paragraph.docx'));
    expect(text).not.toContain('\n');
    expect(text.length).toBeGreaterThan(10);
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

  describe('small Word 97 documents, whose WordDocument stream the compound file keeps in its mini-stream', () => {
    it('a .doc of two words gives its text', async () => {
      expect(await extractText(docFixture('frog_prince_title.doc'), 'title.doc')).toEqual({ text: 'The Frog-Prince', format: 'doc' });
    });

    it('a .doc of one sentence gives its paragraphs', async () => {
      const { text } = await extractText(docFixture('frog_prince_first_sentence.doc'));
      expect(text).toBe(
        'The Frog-Prince\n\nOne fine evening a young princess put on her bonnet and clogs, and went out to take a walk by herself in a wood; and when she came to a cool spring of water, that rose in the midst of it, she sat herself down to rest a while.',
      );
    });

    it('a Vietnamese .doc of a few words keeps its letters', async () => {
      expect((await extractText(docFixture('vi_ho_ba_be_title.doc'))).text).toBe('Sự tích Hồ Ba Bể');
    });

    it('a .doc of two words and a picture (the picture in regular sectors, the text in the mini-stream) gives its text', async () => {
      // Reading the mini-stream sector number as a regular sector lands inside the picture here.
      expect(await extractText(docFixture('frog_prince_title_picture.doc'), 'picture.doc')).toEqual({ text: 'The Frog-Prince', format: 'doc' });
    });

    it('a small .doc with the fEncrypted flag in its mini-stream FIB → encrypted-document', async () => {
      await expectCode(withWordDocument(docFixture('frog_prince_title.doc'), (fib) => fib.writeUInt16LE(fib.readUInt16LE(0x0a) | 0x0100, 0x0a)), 'encrypted-document');
    });

    it('a small Word 6/95 .doc (FIB identifier A5DC in the mini-stream) → unsupported-format', async () => {
      const error = await expectCode(withWordDocument(docFixture('frog_prince_title.doc'), (fib) => fib.writeUInt16LE(0xa5dc, 0)), 'unsupported-format', 'old.doc');
      expect(error.message).toContain('Word 6 or Word 95');
    });
  });

  it('a .doc of a few hundred words (WordDocument in regular sectors) from LibreOffice gives every paragraph', async () => {
    const { text } = await extractText(docFixture('frog_prince_opening.doc'));
    const source = sampleText('stories/en/en_grimm_frog_prince.txt').split('\n\n').slice(0, 4);
    expect(text).toBe(source.map((p) => p.replace(/\n/g, ' ')).join('\n\n'));
    expect(text.split(/\s+/).length).toBe(481);
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

  it('UTF-8 with an invalid byte → unreadable-encoding', async () => {
    await expectCode(Buffer.concat([Buffer.from('Sự tích Hồ Ba Bể. '), Buffer.from([0xe9]), Buffer.from(' Ngày xưa.')]), 'unreadable-encoding');
  });

  it('a Windows-1252 "Héllo" is read, with its encoding', async () => {
    expect(await extractText(Buffer.from([0x48, 0xe9, 0x6c, 0x6c, 0x6f]))).toEqual({ text: 'Héllo', format: 'txt', encoding: 'windows-1252' });
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
    await expectCode(zip({ mimetype: 'application/vnd.oasis.opendocument.text' }, { store: true }), 'unsupported-format');
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

  // The looping reader fills its heap (256 MB) in about 10 s; one case covers both readers, which run in the same child process.
  it('a .doc whose sector chain loops (endless in the compound-file reader) → corrupt-document, and the process lives on', async () => {
    const started = Date.now();
    const error = await expectCode(withLoopedChain(docFixture('frog_prince_opening.doc'), true), 'corrupt-document', 'loop.doc');
    expect(error.message).toContain('"loop.doc" is damaged');
    expect(Date.now() - started).toBeLessThan(DOC_TIME_LIMIT_MS);
    // The next document still reads.
    expect((await extractText(docFixture('frog_prince_title.doc'))).text).toBe('The Frog-Prince');
  }, 60_000);

  it('a Word 97 .doc cut short → corrupt-document', async () => {
    const doc = sampleBytes('docs/nwe_test05_word97.doc');
    await expectCode(doc.subarray(0, 3000), 'corrupt-document');
  });
});

describe('.docx body only', () => {
  const footnoteRef = (id: string) => `<w:r><w:footnoteReference w:id="${id}"/></w:r>`;
  const endnoteRef = (id: string) => `<w:r><w:endnoteReference w:id="${id}"/></w:r>`;

  it('leaves out footnotes, endnotes, comments, headers and footers', async () => {
    const body =
      `<w:p><w:r><w:t>Once upon a time.</w:t></w:r>${footnoteRef('1')}<w:r><w:t xml:space="preserve"> The end</w:t></w:r>${endnoteRef('1')}` +
      `<w:commentRangeStart w:id="0"/><w:r><w:t>.</w:t></w:r><w:commentRangeEnd w:id="0"/><w:r><w:commentReference w:id="0"/></w:r></w:p>` +
      `<w:sectPr><w:headerReference w:type="default" r:id="rIdH"/><w:footerReference w:type="default" r:id="rIdF"/></w:sectPr>`;
    const docx = zip({
      ...docxPackageParts([
        { id: 'rIdFn', type: 'footnotes', target: 'footnotes.xml' },
        { id: 'rIdEn', type: 'endnotes', target: 'endnotes.xml' },
        { id: 'rIdC', type: 'comments', target: 'comments.xml' },
        { id: 'rIdH', type: 'header', target: 'header1.xml' },
        { id: 'rIdF', type: 'footer', target: 'footer1.xml' },
      ]),
      'word/document.xml': documentXml(body),
      'word/footnotes.xml': notesXml('footnote', { '1': 'A FOOTNOTE.' }),
      'word/endnotes.xml': notesXml('endnote', { '1': 'AN ENDNOTE.' }),
      'word/comments.xml': `<w:comments ${WORD_NAMESPACES}><w:comment w:id="0" w:author="Ed">${paragraph('A COMMENT.')}</w:comment></w:comments>`,
      'word/header1.xml': `<w:hdr ${WORD_NAMESPACES}>${paragraph('A HEADER.')}</w:hdr>`,
      'word/footer1.xml': `<w:ftr ${WORD_NAMESPACES}>${paragraph('A FOOTER.')}</w:ftr>`,
    });
    expect((await extractText(docx, 'notes.docx')).text).toBe('Once upon a time. The end.');
  });

  it('keeps line breaks and tabs inside a paragraph; a page break starts a new paragraph', async () => {
    const body =
      '<w:p><w:r><w:t>Roses are red,</w:t><w:br/><w:t>violets are blue.</w:t></w:r></w:p>' +
      '<w:p><w:r><w:t>Name:</w:t><w:tab/><w:t>Gióng</w:t><w:br w:type="page"/><w:t>Chapter two</w:t></w:r></w:p>';
    expect((await extractText(minimalDocx(body))).text).toBe('Roses are red,\nviolets are blue.\n\nName:\tGióng\n\nChapter two');
  });

  it('a table cell with several paragraphs stays on its row line', async () => {
    const cell = (...paragraphs: string[]) => `<w:tc>${paragraphs.map((p) => paragraph(p)).join('')}</w:tc>`;
    const body = `<w:tbl><w:tr>${cell('Who', '(first)')}${cell('What')}</w:tr><w:tr>${cell('Gióng')}${cell('rode', 'an iron horse')}</w:tr></w:tbl>${paragraph('After')}`;
    expect((await extractText(minimalDocx(body))).text).toBe('Who (first)\tWhat\n\nGióng\trode an iron horse\n\nAfter');
  });
});

describe('.docx ZIP limits (checked on the central directory before unpacking)', () => {
  it('a part that claims hundreds of MB (a zip bomb) → file-too-large, without unpacking it', async () => {
    const zeros = deflatedZeros(300);
    const bomb = assembleZip([
      ...Object.entries(docxPackageParts()).map(([name, text]) => ({ name, method: 0 as const, data: Buffer.from(text), crc: 0, uncompressedSize: Buffer.byteLength(text) })),
      { name: 'word/document.xml', method: 8, data: zeros.data, crc: zeros.crc, uncompressedSize: zeros.size },
    ]);
    const started = performance.now();
    const error = await expectCode(bomb, 'file-too-large', 'bomb.docx');
    expect(performance.now() - started).toBeLessThan(500);
    expect(error.message).toMatch(/^"bomb\.docx" would unpack to more than 100 MB/);
  });

  it('a part compressed more than 100:1 → file-too-large', async () => {
    const zeros = deflatedZeros(20);
    const docx = assembleZip([{ name: 'word/media/blank.bin', method: 8, data: zeros.data, crc: zeros.crc, uncompressedSize: zeros.size }]);
    const error = await expectCode(docx, 'file-too-large');
    expect(error.message).toMatch(/unpacks [\d,]+ times larger/);
  });

  it('a part whose directory understates its size (a lying bomb) → corrupt-document, found while streaming', async () => {
    const zeros = deflatedZeros(64);
    const docx = assembleZip([
      ...Object.entries(docxPackageParts()).map(([name, text]) => ({ name, method: 0 as const, data: Buffer.from(text), crc: 0, uncompressedSize: Buffer.byteLength(text) })),
      { name: 'word/document.xml', method: 8, data: zeros.data, crc: zeros.crc, uncompressedSize: 1000 },
    ]);
    const error = await expectCode(docx, 'corrupt-document', 'liar.docx');
    expect(error.message).toContain('"word/document.xml" does not unpack to the size its ZIP directory declares');
  });

  it('more than 10 MB of XML for mammoth to parse → file-too-large, before parsing', async () => {
    const megabyte = deflatedZeros(1);
    const parts = Array.from({ length: 11 }, (_, i) => ({ name: `word/part${i}.xml`, method: 8 as const, data: megabyte.data, crc: megabyte.crc, uncompressedSize: megabyte.size }));
    const error = await expectCode(assembleZip(parts), 'file-too-large');
    expect(error.message).toContain('holds 11 MB of document XML; at most 10 MB can be read');
  });

  it('more than 1,000 parts → file-too-large', async () => {
    const parts: Record<string, string> = { ...docxPackageParts(), 'word/document.xml': documentXml(paragraph('Hi')) };
    for (let i = 0; i < 1001; i++) parts[`word/media/p${i}.txt`] = 'x';
    const error = await expectCode(zip(parts, { store: true }), 'file-too-large');
    expect(error.message).toContain('holds 1,005 parts');
  });
});

describe('text limit', () => {
  it(`a .txt of more than ${MAX_TEXT_CHARS.toLocaleString('en')} characters → file-too-large`, async () => {
    const error = await expectCode(Buffer.from('a '.repeat(MAX_TEXT_CHARS / 2 + 1)), 'file-too-large', 'long.txt');
    expect(error.message).toContain('more than 2,000,000 characters');
  });

  it('a .docx whose XML holds more text than the limit → file-too-large while it is read', async () => {
    let seed = 1;
    const word = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 'abcdefghijklmnopqrstuvwxyz'.slice(seed % 20, (seed % 20) + 3 + (seed % 5));
    };
    const paragraphs: string[] = [];
    let length = 0;
    while (length <= MAX_TEXT_CHARS) {
      const text = Array.from({ length: 200 }, word).join(' ');
      paragraphs.push(paragraph(text));
      length += text.length + 2;
    }
    await expectCode(minimalDocx(paragraphs.join('')), 'file-too-large', 'novel.docx');
  });
});
