import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import {
  checkFileCount,
  checkFileSize,
  DEFAULT_UPLOAD_LIMITS,
  fileTooLargeError,
  formatBytes,
  INTAKE_ERROR_CODES,
  INTAKE_ERROR_HTTP_STATUS,
  IntakeError,
  tooManyFilesError,
  uploadLimits,
} from '../../../src/services/intake-rules.js';
import { normalizeFileName } from '../../../src/text/file-name.js';

function thrown(run: () => void): IntakeError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(IntakeError);
    return error as IntakeError;
  }
  throw new Error('expected an IntakeError');
}

describe('intake rules', () => {
  it('maps every refusal code to its HTTP status: 400 too many, 413 too large, 415 wrong type, 422 content', () => {
    expect(INTAKE_ERROR_HTTP_STATUS).toEqual({
      'too-many-files': 400,
      'file-too-large': 413,
      'unsupported-format': 415,
      'binary-content': 415,
      'empty-file': 422,
      'no-text': 422,
      'unreadable-encoding': 422,
      'corrupt-document': 422,
      'encrypted-document': 422,
    });
    for (const code of INTAKE_ERROR_CODES) expect(new IntakeError(code, 'm', 'f.txt').httpStatus).toBe(INTAKE_ERROR_HTTP_STATUS[code]);
  });

  it("README's Input files table lists the same codes and statuses", () => {
    const readme = readFileSync(path.resolve('README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Input files'), readme.indexOf('## How it works'));
    const rows = [...section.matchAll(/^\| `([a-z-]+)` \| (\d{3}) \|/gm)].map(([, code, status]) => [code, Number(status)]);
    expect(Object.fromEntries(rows)).toEqual(INTAKE_ERROR_HTTP_STATUS);
  });

  it('serialises as { code, message, fileName } for API answers', () => {
    expect(JSON.parse(JSON.stringify(new IntakeError('no-text', '"a.txt" contains no text', 'a.txt')))).toEqual({
      code: 'no-text',
      message: '"a.txt" contains no text',
      fileName: 'a.txt',
    });
  });

  it('takes its limits from UPLOAD_MAX_FILES and UPLOAD_MAX_BYTES, 10 files of 10 MB by default', () => {
    expect(uploadLimits(loadConfig({}))).toEqual(DEFAULT_UPLOAD_LIMITS);
    expect(DEFAULT_UPLOAD_LIMITS).toEqual({ maxFiles: 10, maxBytes: 10 * 1024 * 1024 });
    expect(uploadLimits(loadConfig({ UPLOAD_MAX_FILES: '3', UPLOAD_MAX_BYTES: '1000' }))).toEqual({ maxFiles: 3, maxBytes: 1000 });
  });

  it('refuses an 11th file and a file one byte over the limit, naming the limit', () => {
    expect(() => checkFileCount(10, DEFAULT_UPLOAD_LIMITS)).not.toThrow();
    expect(thrown(() => checkFileCount(11, DEFAULT_UPLOAD_LIMITS))).toMatchObject({ code: 'too-many-files', httpStatus: 400 });
    expect(() => checkFileSize(10 * 1024 * 1024, 'a.txt', DEFAULT_UPLOAD_LIMITS)).not.toThrow();
    const error = thrown(() => checkFileSize(10 * 1024 * 1024 + 1, 'a.txt', DEFAULT_UPLOAD_LIMITS));
    expect(error).toMatchObject({ code: 'file-too-large', httpStatus: 413, fileName: 'a.txt' });
    expect(error.message).toBe('"a.txt" is 10,485,761 bytes, more than the 10 MB a file may have; split the story into smaller files.');
  });

  it('words the refusals when the count or size is not known (a parser that stopped early)', () => {
    expect(tooManyFilesError(undefined, DEFAULT_UPLOAD_LIMITS).message).toBe(
      'More than 10 files were sent; one batch takes at most 10. Send the others in another batch.',
    );
    expect(fileTooLargeError('b.docx', undefined, { maxFiles: 10, maxBytes: 512 * 1024 }).message).toBe(
      '"b.docx" is larger than the 512 KB a file may have; split the story into smaller files.',
    );
    expect(formatBytes(1000)).toBe('1,000 bytes');
  });
});

describe('normalizeFileName', () => {
  it('keeps Vietnamese names, composed (NFC)', () => {
    const nfd = 'Sự tích Hồ Ba Bể.txt'.normalize('NFD');
    expect(normalizeFileName(nfd)).toBe('Sự tích Hồ Ba Bể.txt');
  });

  it('repairs UTF-8 that a multipart parser read as Latin-1', () => {
    expect(normalizeFileName(Buffer.from('Truyện cổ tích.docx').toString('latin1'))).toBe('Truyện cổ tích.docx');
  });

  it('leaves real Latin-1 names alone', () => {
    expect(normalizeFileName('Café crème.txt')).toBe('Café crème.txt');
  });

  it('drops folders, control characters and surrounding spaces; never returns an empty name', () => {
    expect(normalizeFileName('C:\\Users\\me\\story.txt')).toBe('story.txt');
    expect(normalizeFileName('../../etc/passwd')).toBe('passwd');
    expect(normalizeFileName('  a\u0000b\u001f.txt \n')).toBe('ab.txt');
    expect(normalizeFileName(' / ')).toBe('untitled');
  });

  it('cuts very long names to 255 characters without splitting a character', () => {
    const name = normalizeFileName(`${'😀'.repeat(300)}.txt`);
    expect([...name]).toHaveLength(255);
    expect(name).toBe('😀'.repeat(255));
  });
});
