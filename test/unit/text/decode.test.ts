import { describe, expect, it } from 'vitest';
import { decodeText } from '../../../src/text/decode.js';
import { IntakeError } from '../../../src/text/intake-error.js';
import { normalizeText } from '../../../src/text/normalize.js';
import { encodeLegacy } from '../../support/legacy-text.js';
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

  it('control codes in a file that is not UTF-8 → binary-content', () => {
    const bytes = Buffer.from('\u0001\u0002\u0003\u0004 story \u00e9 \u0005\u0006', 'latin1');
    expect(intakeError(() => decodeText(bytes, 'blob.txt')).code).toBe('binary-content');
  });

  it('a UTF-16 BOM followed by an odd number of bytes → unreadable-encoding', () => {
    expect(intakeError(() => decodeText(Uint8Array.from([0xff, 0xfe, 0x41, 0x00, 0x42]))).code).toBe('unreadable-encoding');
  });

  it('a UTF-8 BOM followed by invalid UTF-8 → unreadable-encoding (the BOM promised UTF-8)', () => {
    const error = intakeError(() => decodeText(Uint8Array.from([0xef, 0xbb, 0xbf, 0x43, 0x61, 0x66, 0xe9]), 'bom.txt'));
    expect(error.code).toBe('unreadable-encoding');
    expect(error.message).toBe('"bom.txt" is not valid UTF-8 text, although it starts with a UTF-8 byte-order mark; save it as UTF-8 and upload again.');
  });
});

describe('decodeText reads legacy code pages', () => {
  const hoBaBe = normalizeText(sampleText('stories/vi/vi_su_tich_ho_ba_be.txt'));

  it.each(['stories/vi/vi_su_tich_ho_ba_be.txt', 'stories/vi/vi_su_tich_cay_thi_la.txt'])(
    '%s saved as Windows-1258 (tone marks as combining characters) reads back as the same NFC text',
    (file) => {
      const original = normalizeText(sampleText(file));
      const bytes = encodeLegacy(original, 'windows-1258');
      expect(bytes.length).toBeLessThan(Buffer.byteLength(original)); // really one byte per character
      const decoded = decodeText(bytes, 'story.txt');
      expect(decoded.encoding).toBe('windows-1258');
      expect(decoded.text).toBe(decoded.text.normalize('NFC'));
      expect(normalizeText(decoded.text)).toBe(original);
    },
  );

  it('Windows-1258 with CRLF line ends gives the story text exactly', () => {
    const decoded = decodeText(encodeLegacy(hoBaBe.replace(/\n/g, '\r\n'), 'windows-1258'));
    expect(normalizeText(decoded.text)).toBe(hoBaBe);
  });

  it('a one-line Vietnamese title in Windows-1258 is not taken for Turkish', () => {
    expect(decodeText(encodeLegacy('Sự tích Hồ Ba Bể', 'windows-1258'))).toEqual({ text: 'Sự tích Hồ Ba Bể', encoding: 'windows-1258' });
  });

  it.each(['stories/other/fr_perrault_petit_chaperon_rouge.txt', 'stories/en/en_andersen_little_match_girl.txt'])(
    '%s saved as Windows-1252 (curly quotes, dashes, accents) reads back exactly',
    (file) => {
      const original = normalizeText(sampleText(file));
      const decoded = decodeText(encodeLegacy(original, 'windows-1252'));
      expect(decoded.encoding).toBe('windows-1252');
      expect(normalizeText(decoded.text)).toBe(original);
    },
  );

  it('a word with one accent ("Café") reads as Windows-1252: every Latin code page agrees on it', () => {
    expect(decodeText(Uint8Array.from([0x43, 0x61, 0x66, 0xe9, 0x0a]), 'menu.txt')).toEqual({ text: 'Café\n', encoding: 'windows-1252' });
  });

  it.each([
    ['German', 'windows-1252', 'Es war einmal ein König, der hatte drei Töchter. Die jüngste war so schön, daß die Sonne sich wunderte.'],
    ['Spanish', 'windows-1252', 'Érase una vez una niña que vivía en una aldea cerca del bosque. Siempre llevaba una caperuza roja.'],
    ['Polish', 'windows-1250', 'Dawno, dawno temu, za siedmioma górami, żyła sobie dziewczynka, która nosiła czerwony kapturek. Są tu ślady.'],
    ['Czech', 'windows-1250', 'Byla jednou jedna holčička, kterou měl rád každý, kdo ji jen uviděl. Babička jí darovala čepeček.'],
    ['Russian', 'windows-1251', 'Жила-была девочка, которую все любили. Бабушка подарила ей красную шапочку, и с тех пор её звали Красной Шапочкой.'],
    ['Greek', 'windows-1253', 'Μια φορά κι έναν καιρό ζούσε ένα κορίτσι που όλοι το αγαπούσαν πολύ.'],
    ['Turkish', 'windows-1254', 'Bir varmış, bir yokmuş. Evvel zaman içinde, kalbur saman içinde, küçük bir kız yaşarmış.'],
    ['Japanese', 'shift_jis', 'むかしむかし、あるところに、おじいさんとおばあさんが住んでいました。'],
    ['Chinese', 'gb18030', '从前有一个小女孩，她住在森林边的一个小村庄里。'],
  ])('a short %s paragraph in %s reads back exactly', (_language, encoding, text) => {
    expect(decodeText(encodeLegacy(text, encoding)).text).toBe(text);
  });

  it('UTF-8 with a stray Windows-1252 byte → unreadable-encoding naming the byte, not a legacy misreading', () => {
    const bytes = Buffer.concat([Buffer.from(hoBaBe.slice(0, 300)), Buffer.from([0x93]), Buffer.from(hoBaBe.slice(300, 600))]);
    const error = intakeError(() => decodeText(bytes, 'mixed.txt'));
    expect(error.code).toBe('unreadable-encoding');
    expect(error.message).toMatch(new RegExp(`^"mixed\\.txt" is mostly UTF-8 text but has 1 invalid byte \\(the first at byte ${Buffer.byteLength(hoBaBe.slice(0, 300))}\\)`));
  });

  it('random bytes with no NUL and no control code → unreadable-encoding', () => {
    let seed = 7;
    const bytes = Buffer.alloc(4000);
    for (let i = 0; i < bytes.length; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      bytes[i] = 0x20 + (seed % 0xe0);
    }
    expect(intakeError(() => decodeText(bytes)).code).toBe('unreadable-encoding');
  });

  it('a byte no Latin code page defines (0x81) in Western text → refused, never U+FFFD', () => {
    const bytes = Buffer.concat([Buffer.from('Il était une fois ', 'latin1'), Buffer.from([0x81]), Buffer.from(' une petite fille de village.', 'latin1')]);
    let text = '';
    try {
      text = decodeText(bytes).text;
    } catch (error) {
      expect((error as IntakeError).code).toBe('unreadable-encoding');
    }
    expect(text).not.toContain('\uFFFD');
    expect(text).toBe('');
  });
});
