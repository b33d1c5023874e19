import { describe, expect, it } from 'vitest';
import { decodeText } from '../../../src/text/decode.js';
import { IntakeError } from '../../../src/text/intake-error.js';
import { normalizeText } from '../../../src/text/normalize.js';
import { sampleBytes, sampleText } from '../../support/samples.js';

function intakeError(run: () => unknown): IntakeError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(IntakeError);
    return error as IntakeError;
  }
  throw new Error('expected an IntakeError, but nothing was thrown');
}

const utf8 = (text: string) => new TextEncoder().encode(text);

describe('decodeText on the saved-other-ways samples', () => {
  const expected = normalizeText(sampleText('stories/vi/vi_su_tich_ho_ba_be.txt'));

  it.each([
    ['vi_ho_ba_be_utf8_bom.txt', 'utf-8-bom'],
    ['vi_ho_ba_be_utf16le_bom_crlf.txt', 'utf-16le'],
    ['vi_ho_ba_be_nfd.txt', 'utf-8'],
  ])('%s decodes and normalises to exactly the story text', (file, encoding) => {
    const decoded = decodeText(sampleBytes(`encodings/${file}`), file);
    expect(decoded.encoding).toBe(encoding);
    expect(normalizeText(decoded.text)).toBe(expected);
  });

  it('removes the byte-order mark from the text', () => {
    const decoded = decodeText(sampleBytes('encodings/vi_ho_ba_be_utf8_bom.txt'));
    expect(decoded.text.startsWith('Sự tích')).toBe(true);
  });

  it('reads UTF-16BE with a BOM', () => {
    const text = 'Sự tích Hồ Ba Bể\r\n';
    const le = Buffer.from(text, 'utf16le');
    const be = Buffer.alloc(le.length + 2);
    be[0] = 0xfe;
    be[1] = 0xff;
    for (let i = 0; i < le.length; i += 2) {
      be[i + 2] = le[i + 1];
      be[i + 3] = le[i];
    }
    expect(decodeText(be)).toEqual({ text, encoding: 'utf-16be' });
  });

  it('reads UTF-16LE saved without a BOM', () => {
    const text = 'Once upon a time, in Hà Nội.\n';
    expect(decodeText(Buffer.from(text, 'utf16le'))).toEqual({ text, encoding: 'utf-16le' });
  });
});

describe('decodeText refuses what is not text', () => {
  it('0 bytes → empty-file', () => {
    const error = intakeError(() => decodeText(new Uint8Array(0), 'story.txt'));
    expect(error.code).toBe('empty-file');
    expect(error.fileName).toBe('story.txt');
    expect(error.message).toContain('story.txt');
  });

  it('a PNG renamed .txt → binary-content', () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    const error = intakeError(() => decodeText(png, 'cover.txt'));
    expect(error.code).toBe('binary-content');
    expect(error.message).toMatch(/PNG image.*\.txt, \.doc or \.docx/);
  });

  it.each([
    ['JPEG', [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46]],
    ['PDF', [...utf8('%PDF-1.7\n%âãÏÓ')]],
    ['ELF', [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]],
    ['MZ', [0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00]],
  ])('%s magic number → binary-content', (_kind, bytes) => {
    expect(intakeError(() => decodeText(Uint8Array.from(bytes))).code).toBe('binary-content');
  });

  it('NUL bytes in a file that is not UTF-16 → binary-content', () => {
    expect(intakeError(() => decodeText(utf8('abc\u0000\u0000\u0000def\u0000'))).code).toBe('binary-content');
  });

  it('a text that merely starts with "MZ" is still text', () => {
    expect(decodeText(utf8('MZ is how the story starts.')).text).toBe('MZ is how the story starts.');
  });

  it('invalid UTF-8 → unreadable-encoding, never U+FFFD', () => {
    // "Café" in Windows-1252: E9 is not valid UTF-8 on its own.
    const error = intakeError(() => decodeText(Uint8Array.from([0x43, 0x61, 0x66, 0xe9, 0x0a]), 'menu.txt'));
    expect(error.code).toBe('unreadable-encoding');
    expect(error.message).toBe('"menu.txt" is not valid UTF-8 or UTF-16 text; save it as UTF-8 and upload again.');
  });

  it('a UTF-16 BOM followed by an odd number of bytes → unreadable-encoding', () => {
    expect(intakeError(() => decodeText(Uint8Array.from([0xff, 0xfe, 0x41, 0x00, 0x42]))).code).toBe('unreadable-encoding');
  });

  it('a UTF-8 BOM followed by invalid UTF-8 → unreadable-encoding', () => {
    expect(intakeError(() => decodeText(Uint8Array.from([0xef, 0xbb, 0xbf, 0xc3, 0x28]))).code).toBe('unreadable-encoding');
  });
});
