import { describe, expect, it } from 'vitest';
import { decodeText } from '../../../src/text/decode.js';
import { isVietnameseSyllable } from '../../../src/text/vietnamese-syllables.js';
import { encodeLegacy, encodeTcvn3, encodeVni, tcvn3Readable } from '../../support/legacy-text.js';
import { normalizeText } from '../../../src/text/normalize.js';
import { sampleText, storyFiles } from '../../support/samples.js';

const VIETNAMESE_STORIES = ['stories/vi/vi_su_tich_ho_ba_be.txt', 'stories/vi/vi_su_tich_cay_thi_la.txt', 'stories/vi/vi_thanh_giong.txt'];

/** The story as a legacy converter leaves it for a font encoding: "Ð" (U+00D0) is the Vietnamese "Đ". */
const story = (file: string): string => normalizeText(sampleText(file)).replace(/Ð/g, 'Đ');

const OPENING = 'Ngày xưa, ở một làng nọ có hai vợ chồng già hiền lành, chăm chỉ làm ăn. Một hôm, họ đi lên núi kiếm củi.';

describe('Vietnamese in the TCVN3 (ABC) font encoding', () => {
  it.each(VIETNAMESE_STORIES)('%s saved as TCVN3 reads back as the story (capitals with tone marks lowercase, as TCVN3 holds them)', (file) => {
    const original = story(file);
    const bytes = encodeTcvn3(original);
    expect(bytes.length).toBeLessThan(Buffer.byteLength(original)); // one byte per letter
    const decoded = decodeText(bytes, 'story.txt');
    expect(decoded.encoding).toBe('tcvn3');
    expect(normalizeText(decoded.text)).toBe(tcvn3Readable(original));
  });

  it('the bytes a .VnTime user types: "Ngµy x­a" is "Ngày xưa"; curly quotes and dashes stay punctuation, CRLF kept', () => {
    const text = `${OPENING}\r\n“Đi đâu?” – bà hỏi.\r\n`;
    const bytes = encodeTcvn3(text);
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('Ngµy x\u00ada');
    expect(decodeText(bytes)).toEqual({ text, encoding: 'tcvn3' });
  });
});

describe('Vietnamese in the VNI-Windows font encoding', () => {
  it.each(VIETNAMESE_STORIES)('%s saved as VNI reads back as the story exactly', (file) => {
    const original = story(file);
    const decoded = decodeText(encodeVni(original), 'story.txt');
    expect(decoded.encoding).toBe('vni');
    expect(normalizeText(decoded.text)).toBe(original);
  });

  it('text typed in VNI ("Ngaøy xöa …", written by hand here) is "Ngày xưa …", capitals and quotes included', () => {
    const typed = 'Ngaøy xöa, ôû moät laøng noï coù hai vôï choàng giaø hieàn laønh, chaêm chæ laøm aên. Moät hoâm, hoï ñi leân nuùi kieám cuûi.';
    expect(decodeText(encodeLegacy(typed, 'windows-1252'), 'vni.txt')).toEqual({ text: OPENING, encoding: 'vni' });
    const title = '“SÖÏ TÍCH HOÀ BA BEÅ” – Ñaëng Thò ÔÛ.';
    expect(decodeText(encodeLegacy(`${title}\n${typed}`, 'windows-1252')).text).toBe(`“SỰ TÍCH HỒ BA BỂ” – Đặng Thị Ở.\n${OPENING}`);
  });
});

describe('no other file is taken for TCVN3 or VNI', () => {
  // The Grimm files are ASCII (read as UTF-8); the others have curly quotes, dashes or accents.
  it.each(storyFiles().filter((f) => f.folder !== 'vi' && /[^\x20-\x7e\s]/.test(sampleText(f.path))))('$path saved as Windows-1252 still reads as Windows-1252', ({ path }) => {
    const original = normalizeText(sampleText(path));
    const decoded = decodeText(encodeLegacy(original, 'windows-1252'));
    expect(decoded.encoding).toBe('windows-1252');
    expect(normalizeText(decoded.text)).toBe(original);
  });

  it.each(VIETNAMESE_STORIES)('%s saved as Windows-1258 still reads as Windows-1258', (file) => {
    const original = story(file);
    expect(decodeText(encodeLegacy(original, 'windows-1258')).encoding).toBe('windows-1258');
  });

  it.each([
    ['German', 'windows-1252', 'Es war einmal ein König, der hatte drei Töchter. Die jüngste war so schön, daß die Sonne sich wunderte.'],
    ['Polish', 'windows-1250', 'Dawno, dawno temu, za siedmioma górami, żyła sobie dziewczynka, która nosiła czerwony kapturek. Są tu ślady.'],
    ['Russian', 'windows-1251', 'Жила-была девочка, которую все любили. Бабушка подарила ей красную шапочку, и с тех пор её звали Красной Шапочкой.'],
  ])('a short %s paragraph in %s keeps its code page', (_language, encoding, text) => {
    expect(decodeText(encodeLegacy(text, encoding))).toEqual({ text, encoding });
  });

  it('bytes that decode without error as TCVN3 but give no Vietnamese words → unreadable-encoding', () => {
    // Every byte here has a TCVN3 letter, but the "words" are not Vietnamese syllables.
    const bytes = Buffer.from('Xq\u00b5\u00b8\u00e9z k\u00fe\u00fd\u00e8w p\u00b5\u00b5\u00b5t '.repeat(20), 'latin1');
    expect(() => decodeText(bytes, 'noise.txt')).toThrow(/"noise\.txt" is not UTF-8 or UTF-16 text/);
  });
});

describe('isVietnameseSyllable', () => {
  it.each(['người', 'khuya', 'Đông', 'nghiêng', 'quyển', 'giữa', 'oai', 'chuyện'])('"%s" is a syllable', (word) => {
    expect(isVietnameseSyllable(word)).toBe(true);
  });
  it.each(['ngaứy', 'cafộ', 'school', 'hiềền', 'mấỳ', 'xyz'])('"%s" is not', (word) => {
    expect(isVietnameseSyllable(word)).toBe(false);
  });
});
