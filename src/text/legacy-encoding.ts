import { analyse } from 'chardet';
import iconv from 'iconv-lite';
import { detectLanguage } from './language.js';
import { decodeTcvn3, decodeVni, type VietnameseFontEncoding } from './vietnamese-font-encoding.js';
import { vietnameseSyllableShare } from './vietnamese-syllables.js';

/**
 * Legacy (pre-Unicode) encodings a text upload may be read from, by the names Storyforge stores
 * (WHATWG labels, lower case). Single-byte Windows code pages first, then the few others chardet
 * recognises.
 */
export const LEGACY_ENCODINGS = [
  'windows-1252', // Western European (also what ISO-8859-1 files are read as)
  'windows-1250', // Central European
  'windows-1251', // Cyrillic
  'windows-1253', // Greek
  'windows-1254', // Turkish (also ISO-8859-9)
  'windows-1255', // Hebrew
  'windows-1256', // Arabic
  'windows-1257', // Baltic
  'windows-1258', // Vietnamese
  'windows-874', // Thai
  'iso-8859-2',
  'iso-8859-5',
  'iso-8859-6',
  'iso-8859-7',
  'iso-8859-8',
  'koi8-r',
  'shift_jis',
  'euc-jp',
  'euc-kr',
  'gb18030',
  'big5',
] as const;

export type LegacyEncodingName = (typeof LEGACY_ENCODINGS)[number];

/**
 * chardet's confidence (0-100) below which a guess is not taken. Real prose scores 20-100 (a short
 * Russian paragraph in Windows-1251 ≈ 24); random bytes score below 5.
 */
const MIN_CONFIDENCE = 10;

/** chardet reads this many bytes from the start (its statistics settle long before; 1 MB takes ~250 ms). */
const SAMPLE_BYTES = 64 * 1024;

/**
 * Share of the non-ASCII characters that may look wrong in a decoded text (see {@link assess})
 * before the decoding is rejected. Real text has almost none; a wrong code page produces many.
 */
const MAX_ODD_SHARE = 0.02;

/**
 * A plausible reading is refused when another encoding that chardet rates at least 80% as high
 * reads the bytes as different, also plausible, text: then the bytes alone cannot tell which was meant.
 */
const AMBIGUOUS_SHARE = 0.8;

/** Share of the non-space characters that must be letters (or combining marks). */
const MIN_LETTER_SHARE = 0.5;

/**
 * chardet's names → ours. ISO-8859-1 and -9 are read as their Windows supersets, as browsers do
 * (they differ only in 80-9F, which are control characters in ISO-8859).
 */
const FROM_CHARDET: Readonly<Record<string, LegacyEncodingName>> = {
  'ISO-8859-1': 'windows-1252',
  'ISO-8859-9': 'windows-1254',
  'ISO-8859-2': 'iso-8859-2',
  'ISO-8859-5': 'iso-8859-5',
  'ISO-8859-6': 'iso-8859-6',
  'ISO-8859-7': 'iso-8859-7',
  'ISO-8859-8': 'iso-8859-8',
  'windows-1250': 'windows-1250',
  'windows-1251': 'windows-1251',
  'windows-1252': 'windows-1252',
  'windows-1253': 'windows-1253',
  'windows-1254': 'windows-1254',
  'windows-1255': 'windows-1255',
  'windows-1256': 'windows-1256',
  'windows-1257': 'windows-1257',
  'windows-1258': 'windows-1258',
  'windows-874': 'windows-874',
  'KOI8-R': 'koi8-r',
  Shift_JIS: 'shift_jis',
  'EUC-JP': 'euc-jp',
  'EUC-KR': 'euc-kr',
  GB18030: 'gb18030',
  Big5: 'big5',
};

/**
 * Latin-script Windows code pages. When chardet has no usable guess (a very short text), a text is
 * still read as Windows-1252 if all of these give exactly the same characters: then which one was
 * meant does not matter ("Café" is "Café" in all of them).
 */
const LATIN_PAGES: readonly LegacyEncodingName[] = ['windows-1252', 'windows-1250', 'windows-1254', 'windows-1257', 'windows-1258'];

export type LegacyDecoding =
  | {
      ok: true;
      /** The decoded text in NFC (Windows-1258 writes Vietnamese tone marks as separate characters). */
      text: string;
      encoding: LegacyEncodingName | VietnameseFontEncoding;
    }
  | {
      ok: false;
      /**
       * The best reading was Vietnamese typed with a font-based encoding, but neither the TCVN3 nor
       * the VNI reading was plausible (VPS or another font encoding, or a damaged file).
       */
      vietnameseFontEncoding: boolean;
    };

/**
 * Reads text that is not UTF-8 in the legacy encoding it was most likely saved in, or gives up.
 *
 * chardet (byte statistics and character-pair frequencies per language, as in ICU) ranks the
 * candidates; a candidate is taken only if its confidence is at least 10 and the decoded text is
 * plausible ({@link assess}): no undefined byte (iconv-lite's U+FFFD), no C1 control or unassigned
 * character, at least half of the non-space characters letters, at most 2% of the non-ASCII
 * characters odd (a symbol between two letters such as "nosi³a", an uppercase accented letter
 * after a lowercase one such as "tiÌch", a letter of another script touching a Latin one such as
 * "Cafй", a combining mark left on a Latin letter after NFC), and not Vietnamese spelled with
 * letters Vietnamese does not have (VNI or TCVN3 font encodings read as a code page: "Ngaøy
 * xöa"). The first plausible candidate wins, unless another candidate
 * rated at least 80% as high reads the bytes as different plausible text (ambiguous: refused).
 * Without any candidate, a text on which every Latin Windows code page agrees is read as
 * Windows-1252. The whole text is checked again after decoding. When no code page reads the bytes,
 * they are tried as Vietnamese in the TCVN3 (ABC) and VNI font encodings ({@link decodeVietnameseFont}).
 *
 * @param bytes a whole file that is not valid UTF-8 (and has no BOM, no NUL bytes)
 */
export function decodeLegacy(bytes: Uint8Array): LegacyDecoding {
  const sample = sampleOf(bytes);
  const seen = { vietnameseFontEncoding: false };
  const encoding = chooseEncoding(sample, seen);
  if (encoding) {
    const text = sample === bytes ? decodeAs(sample, encoding) : decodeAs(bytes, encoding);
    const verdict = assess(text, encoding);
    if (verdict.plausible) return { ok: true, text, encoding };
    seen.vietnameseFontEncoding ||= verdict.vietnameseFontEncoding === true;
  }
  const font = decodeVietnameseFont(bytes);
  if (font) return { ok: true, ...font };
  return { ok: false, vietnameseFontEncoding: seen.vietnameseFontEncoding };
}

/**
 * Share of the words with a non-ASCII letter that must be Vietnamese syllables for a TCVN3 or VNI
 * reading to be taken (real text: 98-100%, loanwords and names aside; a wrong reading: well under half).
 */
const MIN_SYLLABLE_SHARE = 0.9;
/** Fewest such words: a line or two of Vietnamese. */
const MIN_VIETNAMESE_WORDS = 5;

/**
 * Reads bytes no code page explains as Vietnamese in the TCVN3 (ABC) or VNI font encoding, when
 * exactly one of them decodes strictly and gives plausible Vietnamese: {@link assess} finds nothing odd,
 * every non-ASCII letter is a Vietnamese letter, at least {@link MIN_SYLLABLE_SHARE} of the words
 * with one are Vietnamese syllables, and franc takes the text for Vietnamese.
 */
function decodeVietnameseFont(bytes: Uint8Array): { text: string; encoding: VietnameseFontEncoding } | undefined {
  const readings = [
    { encoding: 'tcvn3' as const, text: decodeTcvn3(bytes) },
    { encoding: 'vni' as const, text: decodeVni(bytes) },
  ].filter((r): r is { encoding: VietnameseFontEncoding; text: string } => r.text !== undefined && isPlausibleVietnamese(r.text));
  return readings.length === 1 ? readings[0] : undefined;
}

function isPlausibleVietnamese(text: string): boolean {
  const stats = scan(text);
  if (stats.latin !== stats.vietnamese || stats.odd > 0 || stats.letters < stats.visible * MIN_LETTER_SHARE) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000e-\u0019\u001c-\u001f\u007f-\u009f\ufffd]/.test(text)) return false;
  const { words, share } = vietnameseSyllableShare(text);
  return words >= MIN_VIETNAMESE_WORDS && share >= MIN_SYLLABLE_SHARE && detectLanguage(text.slice(0, 4096)) === 'vi';
}

function chooseEncoding(sample: Uint8Array, seen: { vietnameseFontEncoding: boolean }): LegacyEncodingName | undefined {
  const candidates = rankedCandidates(sample);
  for (const [index, { encoding, confidence }] of candidates.entries()) {
    const text = decodeAs(sample, encoding);
    const verdict = assess(text, encoding);
    seen.vietnameseFontEncoding ||= verdict.vietnameseFontEncoding === true;
    if (!verdict.plausible) continue;
    const rival = candidates
      .slice(index + 1)
      .find((other) => other.confidence >= confidence * AMBIGUOUS_SHARE && isRivalReading(sample, other.encoding, text));
    return rival ? undefined : encoding;
  }
  const [first, ...others] = LATIN_PAGES.map((encoding) => decodeAs(sample, encoding));
  if (others.every((text) => text === first) && assess(first!, 'windows-1252').plausible) return 'windows-1252';
  return undefined;
}

/** Another encoding that reads the same bytes as different, also plausible, text. */
function isRivalReading(sample: Uint8Array, encoding: LegacyEncodingName, winner: string): boolean {
  const text = decodeAs(sample, encoding);
  return text !== winner && assess(text, encoding).plausible;
}

/** chardet's guesses we can decode, best first (each encoding once, with its best confidence). */
function rankedCandidates(sample: Uint8Array): Array<{ encoding: LegacyEncodingName; confidence: number }> {
  const ranked: Array<{ encoding: LegacyEncodingName; confidence: number }> = [];
  for (const match of analyse(sample)) {
    const encoding = FROM_CHARDET[match.name];
    if (!encoding || match.confidence < MIN_CONFIDENCE || ranked.some((c) => c.encoding === encoding)) continue;
    ranked.push({ encoding, confidence: match.confidence });
  }
  return ranked;
}

/** The first 64 KB, cut after the last line feed (never inside a multi-byte character). */
function sampleOf(bytes: Uint8Array): Uint8Array {
  if (bytes.length <= SAMPLE_BYTES) return bytes;
  const end = bytes.lastIndexOf(0x0a, SAMPLE_BYTES - 1);
  return bytes.subarray(0, end > 0 ? end + 1 : SAMPLE_BYTES);
}

function decodeAs(bytes: Uint8Array, encoding: LegacyEncodingName): string {
  return iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), encoding).normalize('NFC');
}

export interface Assessment {
  plausible: boolean;
  /** Non-ASCII characters, and how many of them look wrong. */
  nonAscii: number;
  odd: number;
  /** Why the text is not plausible, for tests and logs. */
  reason?: string;
  /** Not plausible because it is Vietnamese in a font-based encoding (VNI, TCVN3 …) read as a code page. */
  vietnameseFontEncoding?: boolean;
}

/**
 * Characters that do not sit between two letters of a word in real text, but come out of a wrong
 * code page: symbols (¦ © ° ± ´ ¸ × ÷ ¤ …), superscripts and fractions (¹ ² ³ ¼), ¿ ¡ ¶ §. Dashes,
 * quotes and apostrophes are left out: "word—word" and "l’enfant" are normal.
 */
const NEVER_IN_WORDS = '\\p{S}\\p{No}\u00BF\u00A1\u00B6\u00A7';

/** Letters of the scripts that separate words with spaces and have case (a symbol inside their words is odd). */
const ALPHABETIC = '[\\p{Script=Latin}\\p{Script=Cyrillic}\\p{Script=Greek}]';

/**
 * What makes a non-ASCII character look wrong, tried at its position (sticky): each pattern
 * starts at the character, so the text is scanned once for non-ASCII characters and only those
 * are looked at (fast on 10 MB of mostly-ASCII text).
 */
const ODD_AT: readonly RegExp[] = [
  // A symbol, superscript digit or ¿ ¡ ¶ § between two letters: "nosi³a", "wiêc¿e".
  new RegExp(`(?<=${ALPHABETIC})[${NEVER_IN_WORDS}](?=${ALPHABETIC})`, 'yu'),
  // An uppercase letter right after a lowercase letter: "tiÌch", "HôÌ" (Vietnamese tone marks read as Windows-1252).
  /(?<=\p{Ll})\p{Lu}/yu,
  // A letter of another script touching a Latin letter: "Cafй" (Windows-1251), "H\u9BB7lo" (a Shift_JIS pair).
  /(?<=\p{Script=Latin})(?!\p{Script=Latin})\p{L}|(?!\p{Script=Latin})\p{L}(?=\p{Script=Latin})/yu,
  // A combining mark still on a Latin letter after NFC (no such letter exists): "n\u0309".
  /(?<=\p{Script=Latin})\p{M}/yu,
];

/** The letters of Vietnamese beyond ASCII (NFC), both cases. */
const VIETNAMESE_LETTER = /^[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]$/iu;
const LETTER = /^[\p{L}\p{M}]$/u;
const LATIN = /^\p{Script=Latin}$/u;
const SPACE = /^\s$/u;

/**
 * Whether a decoded (NFC) text looks like text in the encoding it was decoded with. Exported for
 * tests.
 */
export function assess(text: string, encoding: LegacyEncodingName): Assessment {
  const stats = scan(text);
  const { nonAscii, odd } = stats;
  const verdict = (reason?: string): Assessment => ({ plausible: reason === undefined, nonAscii, odd, reason });
  if (text.includes('\uFFFD')) return verdict(`a byte has no character in ${encoding}`);
  if (/[\u0080-\u009F]/.test(text)) return verdict(`a byte is a C1 control character in ${encoding}`);
  if (/[\p{Cn}\p{Co}]/u.test(text)) return verdict('unassigned or private-use characters');
  if (stats.letters < stats.visible * MIN_LETTER_SHARE) return verdict(`only ${stats.letters} of ${stats.visible} visible characters are letters`);
  if (odd > nonAscii * MAX_ODD_SHARE) return verdict(`${odd} of ${nonAscii} non-ASCII characters look wrong`);
  // Vietnamese typed with a font-based encoding (VNI, TCVN3/ABC, VPS) puts tone marks on letters
  // through Latin-1 characters: read as any code page it gives "Ngaøy xöa", whose words franc still
  // recognises as Vietnamese, but with letters (ø ö æ ñ …) that Vietnamese does not have.
  const foreignLatin = stats.latin - stats.vietnamese;
  if (foreignLatin > stats.latin * MAX_ODD_SHARE && detectLanguage(text.slice(0, 4096)) === 'vi') {
    return { ...verdict('Vietnamese spelled with letters Vietnamese does not have (a VNI or TCVN3 font encoding?)'), vietnameseFontEncoding: true };
  }
  return verdict(undefined);
}

interface TextStats {
  /** Characters (code points) that are not ASCII, and how many of them look wrong ({@link ODD_AT}). */
  nonAscii: number;
  odd: number;
  /** Letters and combining marks, and characters that are not whitespace. */
  letters: number;
  visible: number;
  /** Non-ASCII Latin letters, and how many of them are Vietnamese letters. */
  latin: number;
  vietnamese: number;
}

/** One pass over the text: ASCII by char code, non-ASCII characters one by one. */
function scan(text: string): TextStats {
  const stats: TextStats = { nonAscii: 0, odd: 0, letters: 0, visible: 0, latin: 0, vietnamese: 0 };
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) {
      const lower = code | 0x20;
      if (lower >= 0x61 && lower <= 0x7a) {
        stats.letters++;
        stats.visible++;
      } else if (code > 0x20 && code !== 0x7f) {
        stats.visible++;
      }
      continue;
    }
    const char = String.fromCodePoint(text.codePointAt(i)!);
    stats.nonAscii++;
    if (!SPACE.test(char)) stats.visible++;
    if (LETTER.test(char)) {
      stats.letters++;
      if (LATIN.test(char)) {
        stats.latin++;
        if (VIETNAMESE_LETTER.test(char)) stats.vietnamese++;
      }
    }
    for (const pattern of ODD_AT) {
      pattern.lastIndex = i;
      if (pattern.test(text)) {
        stats.odd++;
        break;
      }
    }
    i += char.length - 1;
  }
  return stats;
}
