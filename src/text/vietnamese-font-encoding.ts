import iconv from 'iconv-lite';

/**
 * Vietnamese font encodings of the 1990s-2000s, typed with UniKey/VietKey into documents set in
 * .VnTime-style fonts (TCVN3, also called ABC) or VNI-Times-style fonts (VNI-Windows). They are
 * not code pages: the font draws Vietnamese letters over Windows-1252 positions, so the bytes read
 * as Windows-1252 give mojibake ("Ngµy x­a" for TCVN3, "Ngaøy xöa" for VNI).
 */
export type VietnameseFontEncoding = 'tcvn3' | 'vni';

/**
 * TCVN3 (TCVN 5712:1993 VN3, the .VnTime fonts): A0-FF hold the lowercase letters and Ă Â Ê Ô Ơ Ư
 * Đ; there are no uppercase letters with tone marks (headings used the .VnTimeH fonts, which draw
 * the same bytes as capitals, so they decode to lowercase here). Bytes 80-9F keep their
 * Windows-1252 punctuation (curly quotes, dashes), as in the fonts.
 */
const TCVN3_HIGH: Readonly<Record<number, string>> = {
  0xa0: '\u00a0',
  0xa1: 'Ă', 0xa2: 'Â', 0xa3: 'Ê', 0xa4: 'Ô', 0xa5: 'Ơ', 0xa6: 'Ư', 0xa7: 'Đ',
  0xa8: 'ă', 0xa9: 'â', 0xaa: 'ê', 0xab: 'ô', 0xac: 'ơ', 0xad: 'ư', 0xae: 'đ',
  0xb5: 'à', 0xb6: 'ả', 0xb7: 'ã', 0xb8: 'á', 0xb9: 'ạ',
  0xbb: 'ằ', 0xbc: 'ẳ', 0xbd: 'ẵ', 0xbe: 'ắ', 0xc6: 'ặ',
  0xc7: 'ầ', 0xc8: 'ẩ', 0xc9: 'ẫ', 0xca: 'ấ', 0xcb: 'ậ',
  0xcc: 'è', 0xce: 'ẻ', 0xcf: 'ẽ', 0xd0: 'é', 0xd1: 'ẹ',
  0xd2: 'ề', 0xd3: 'ể', 0xd4: 'ễ', 0xd5: 'ế', 0xd6: 'ệ',
  0xd7: 'ì', 0xd8: 'ỉ', 0xdc: 'ĩ', 0xdd: 'í', 0xde: 'ị',
  0xdf: 'ò', 0xe1: 'ỏ', 0xe2: 'õ', 0xe3: 'ó', 0xe4: 'ọ',
  0xe5: 'ồ', 0xe6: 'ổ', 0xe7: 'ỗ', 0xe8: 'ố', 0xe9: 'ộ',
  0xea: 'ờ', 0xeb: 'ở', 0xec: 'ỡ', 0xed: 'ớ', 0xee: 'ợ',
  0xef: 'ù', 0xf1: 'ủ', 0xf2: 'ũ', 0xf3: 'ú', 0xf4: 'ụ',
  0xf5: 'ừ', 0xf6: 'ử', 0xf7: 'ữ', 0xf8: 'ứ', 0xf9: 'ự',
  0xfa: 'ỳ', 0xfb: 'ỷ', 0xfc: 'ỹ', 0xfd: 'ý', 0xfe: 'ỵ',
};

/**
 * VNI-Windows: a letter with marks is its ASCII base letter followed by a Windows-1252 letter that
 * the font draws as the marks (lowercase after a lowercase base, uppercase after an uppercase
 * one). Keys are those letters (lowercase), values the combining marks they stand for.
 */
const VNI_MARKS: Readonly<Record<string, string>> = {
  ø: '\u0300', ù: '\u0301', û: '\u0309', õ: '\u0303', ï: '\u0323',
  â: '\u0302', ê: '\u0306',
  à: '\u0302\u0300', á: '\u0302\u0301', å: '\u0302\u0309', ã: '\u0302\u0303', ä: '\u0302\u0323',
  è: '\u0306\u0300', é: '\u0306\u0301', ú: '\u0306\u0309', ü: '\u0306\u0303', ë: '\u0306\u0323',
};

/** VNI-Windows letters that stand alone (lowercase; the uppercase byte gives the uppercase letter). */
const VNI_LETTERS: Readonly<Record<string, string>> = {
  ô: 'ơ', ö: 'ư', ñ: 'đ', í: 'í', ì: 'ì', æ: 'ỉ', ó: 'ĩ', ò: 'ị', î: 'ỵ',
};

/** Which marks each base letter may take in VNI (tone marks on every vowel; circumflex on a e o; breve on a). */
const TONE_ONLY = new Set(['ø', 'ù', 'û', 'õ', 'ï']);
const CIRCUMFLEX = new Set(['â', 'à', 'á', 'å', 'ã', 'ä']);
const BREVE = new Set(['ê', 'è', 'é', 'ú', 'ü', 'ë']);

function vniMarkFits(base: string, mark: string): boolean {
  const b = base.toLowerCase();
  if (TONE_ONLY.has(mark)) return 'aeiouyơư'.includes(b);
  if (CIRCUMFLEX.has(mark)) return 'aeo'.includes(b);
  if (BREVE.has(mark)) return b === 'a';
  return false;
}

/**
 * Decodes bytes as TCVN3 (ABC). Strict: a byte the .VnTime fonts leave empty, or a control byte
 * other than tab, line ends, form feed, SUB and ESC, gives `undefined`.
 *
 * @returns the text in NFC, or `undefined` when the bytes cannot be TCVN3
 */
export function decodeTcvn3(bytes: Uint8Array): string | undefined {
  const punctuation = iconv.decode(Buffer.from([...Array(32).keys()].map((i) => 0x80 + i)), 'windows-1252');
  let text = '';
  for (const byte of bytes) {
    if (byte < 0x80) text += String.fromCharCode(byte);
    else if (byte < 0xa0) {
      const char = punctuation[byte - 0x80]!;
      if (char === '\ufffd' || /[\u0080-\u009f]/.test(char)) return undefined;
      text += char;
    } else {
      const char = TCVN3_HIGH[byte];
      if (char === undefined) return undefined;
      text += char;
    }
  }
  return text.normalize('NFC');
}

/**
 * Decodes bytes as VNI-Windows. Strict: the bytes are read as Windows-1252 first, then every
 * mark letter must follow a base letter it fits ("aø" → "à", "oâ" → "ô", "aê" → "ă"), and no
 * other non-ASCII letter may be left over (real VNI text has none).
 *
 * @returns the text in NFC, or `undefined` when the bytes cannot be VNI
 */
export function decodeVni(bytes: Uint8Array): string | undefined {
  const source = iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'windows-1252');
  let text = '';
  for (const char of source) {
    const lower = char.toLowerCase();
    const upper = char !== lower;
    const mark = VNI_MARKS[lower];
    if (mark !== undefined) {
      const base = text.at(-1) ?? '';
      if (!/\p{L}/u.test(base) || !vniMarkFits(base, lower) || upper !== (base !== base.toLowerCase())) {
        // A mark letter with no base it fits: not VNI, unless it is one of the standalone letters.
        if (!(lower in VNI_LETTERS)) return undefined;
      } else {
        text += mark;
        continue;
      }
    }
    const letter = VNI_LETTERS[lower];
    if (letter !== undefined) {
      text += upper ? letter.toUpperCase() : letter;
      continue;
    }
    if (char.charCodeAt(0) >= 0x80 && /\p{L}/u.test(char)) return undefined;
    text += char;
  }
  return text.normalize('NFC');
}
