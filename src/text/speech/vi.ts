/**
 * Vietnamese text made for a speech engine: numbers, dates, times, units and common abbreviations
 * written out as words, where espeak-ng 1.51 (voice `vi`) reads them wrongly, e.g.
 *
 * | written          | espeak-ng says                          | we send                                   |
 * | ---------------- | --------------------------------------- | ----------------------------------------- |
 * | `1.000.000 đồng` | một triệu không trăm không trăm đồng    | một triệu đồng                            |
 * | `10.000`         | mười nghìn không trăm                   | mười nghìn                                |
 * | `TP.HCM`         | tê pê chấm hát xê em mờ                 | thành phố Hồ Chí Minh                     |
 * | `5 km`, `10 kg`  | năm ca e mờ, mười ca đê                 | năm ki-lô-mét, mười ki-lô-gam             |
 * | `2/9/1945`       | hai chín một nghìn …                    | ngày hai tháng chín năm một nghìn …       |
 * | `7:30`           | bảy ba mươi                             | bảy giờ ba mươi phút                      |
 * | `25°C`           | hai mươi lăm xê                         | hai mươi lăm độ C                         |
 * | `thứ 4`, `thế kỷ XX` | thứ bốn, thế kỷ i-cờ i-cờ           | thứ tư, thế kỷ hai mươi                   |
 *
 * Only the spoken copy changes; story.md and the subtitles keep what was written.
 */

const DIGITS = ['không', 'một', 'hai', 'ba', 'bốn', 'năm', 'sáu', 'bảy', 'tám', 'chín'] as const;

/** Not a letter, digit or mark: the edge of a word (`\b` does not know Vietnamese letters). */
const B = '(?<![\\p{L}\\p{N}\\p{M}])';
const E = '(?![\\p{L}\\p{N}\\p{M}])';

/**
 * Reads 0–999. `full` (a lower group after a higher one, as in 1.005) says "không trăm" and
 * "linh": một nghìn không trăm linh năm.
 */
function readTriple(n: number, full: boolean): string {
  const h = Math.floor(n / 100);
  const t = Math.floor(n / 10) % 10;
  const u = n % 10;
  const parts: string[] = [];
  if (h > 0 || full) parts.push(DIGITS[h]!, 'trăm');
  if (t === 0) {
    if (u > 0) parts.push(...(parts.length ? ['linh', DIGITS[u]!] : [DIGITS[u]!]));
  } else if (t === 1) {
    parts.push('mười');
    if (u === 5) parts.push('lăm');
    else if (u > 0) parts.push(DIGITS[u]!);
  } else {
    parts.push(DIGITS[t]!, 'mươi');
    if (u === 1) parts.push('mốt');
    else if (u === 4) parts.push('tư');
    else if (u === 5) parts.push('lăm');
    else if (u > 0) parts.push(DIGITS[u]!);
  }
  return parts.join(' ');
}

/** Reads a whole number below 10^9 whose groups follow a higher group when `after` is set. */
function readBelowBillion(n: number, after: boolean): string {
  const groups: [number, string][] = [
    [Math.floor(n / 1_000_000), 'triệu'],
    [Math.floor(n / 1000) % 1000, 'nghìn'],
    [n % 1000, ''],
  ];
  const parts: string[] = [];
  let higher = after;
  for (const [value, name] of groups) {
    if (value === 0) continue;
    parts.push(readTriple(value, higher), name);
    higher = true;
  }
  return parts.filter(Boolean).join(' ');
}

/**
 * A whole number in Vietnamese words (Northern usage: nghìn, linh, tỷ):
 * 21 → hai mươi mốt, 105 → một trăm linh năm, 1.005 → một nghìn không trăm linh năm,
 * 1.000.000 → một triệu, 2.500.000.000 → hai tỷ năm trăm triệu.
 */
export function vietnameseNumber(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`vietnameseNumber: ${n}`);
  if (n === 0) return 'không';
  if (n < 1_000_000_000) return readBelowBillion(n, false);
  const billions = Math.floor(n / 1_000_000_000);
  const rest = n % 1_000_000_000;
  const head = `${vietnameseNumber(billions)} tỷ`;
  return rest === 0 ? head : `${head} ${readBelowBillion(rest, true)}`;
}

/** Digits one by one: 007 → không không bảy. */
function readDigits(digits: string): string {
  return Array.from(digits, (d) => DIGITS[Number(d)]).join(' ');
}

/** A digit string as a number; leading zeros (codes, phone numbers) and very long strings digit by digit. */
function readDigitString(digits: string): string {
  if ((digits.length > 1 && digits.startsWith('0')) || digits.length > 15) return readDigits(digits);
  return vietnameseNumber(Number(digits));
}

/** The part after a decimal comma: 5 → năm, 25 → hai mươi lăm, 05 → không năm. */
function readFraction(digits: string): string {
  const zeros = /^0*/.exec(digits)![0];
  const rest = digits.slice(zeros.length);
  return [...Array.from(zeros, () => 'không'), ...(rest ? [readDigitString(rest)] : [])].join(' ');
}

const ROMAN: Record<string, number> = { I: 1, V: 5, X: 10, L: 50, C: 100, D: 500, M: 1000 };

/** A Roman numeral's value, or undefined when the letters are not a well-formed numeral. */
export function romanValue(numeral: string): number | undefined {
  if (!/^M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$/.test(numeral) || numeral === '') return undefined;
  let total = 0;
  for (let i = 0; i < numeral.length; i++) {
    const value = ROMAN[numeral[i]!]!;
    const next = ROMAN[numeral[i + 1] ?? ''] ?? 0;
    total += value < next ? -value : value;
  }
  return total;
}

/** Units written after a number, longest first, and how they are said. */
const UNITS: [string, string][] = [
  ['km/h', 'ki-lô-mét trên giờ'],
  ['km²', 'ki-lô-mét vuông'],
  ['km2', 'ki-lô-mét vuông'],
  ['m²', 'mét vuông'],
  ['m2', 'mét vuông'],
  ['m³', 'mét khối'],
  ['m3', 'mét khối'],
  ['km', 'ki-lô-mét'],
  ['cm', 'xăng-ti-mét'],
  ['mm', 'mi-li-mét'],
  ['kg', 'ki-lô-gam'],
  ['mg', 'mi-li-gam'],
  ['ml', 'mi-li-lít'],
  ['ha', 'héc-ta'],
  ['°C', 'độ C'],
  ['°F', 'độ F'],
  ['°', 'độ'],
  ['%', 'phần trăm'],
  ['VNĐ', 'đồng'],
  ['VND', 'đồng'],
  ['USD', 'đô la Mỹ'],
  ['đ', 'đồng'],
  ['₫', 'đồng'],
  ['m', 'mét'],
  ['g', 'gam'],
  ['l', 'lít'],
];

/** Abbreviations said in full (case-sensitive, whole words). */
const ABBREVIATIONS: [RegExp, string][] = [
  [new RegExp(`${B}(?:TP|Tp|tp)\\.?\\s*(?:HCM|Hồ Chí Minh)${E}`, 'gu'), 'thành phố Hồ Chí Minh'],
  [new RegExp(`${B}TPHCM${E}`, 'gu'), 'thành phố Hồ Chí Minh'],
  [new RegExp(`${B}(?:TP|Tp)\\.\\s*(?=\\p{Lu})`, 'gu'), 'thành phố '],
  [new RegExp(`${B}TP\\s+(?=\\p{Lu})`, 'gu'), 'thành phố '],
  [new RegExp(`${B}HCM${E}`, 'gu'), 'Hồ Chí Minh'],
  [new RegExp(`${B}Q\\.\\s*(?=\\d)`, 'gu'), 'quận '],
  [new RegExp(`${B}P\\.\\s*(?=\\d)`, 'gu'), 'phường '],
  [new RegExp(`${B}[vV]\\.\\s?v\\.?(?=\\s|$|[,;:!?)…])`, 'gu'), 'vân vân'],
  [new RegExp(`${B}PGS\\.\\s*`, 'gu'), 'phó giáo sư '],
  [new RegExp(`${B}GS\\.\\s*`, 'gu'), 'giáo sư '],
  [new RegExp(`${B}ThS\\.\\s*`, 'gu'), 'thạc sĩ '],
  [new RegExp(`${B}TS\\.\\s*`, 'gu'), 'tiến sĩ '],
  [new RegExp(`${B}BS\\.\\s*`, 'gu'), 'bác sĩ '],
  [new RegExp(`${B}KS\\.\\s*`, 'gu'), 'kỹ sư '],
  [new RegExp(`${B}tr\\.\\s*(?=\\d)`, 'gu'), 'trang '],
  [new RegExp(`${B}UBND${E}`, 'gu'), 'ủy ban nhân dân'],
  [new RegExp(`${B}THPT${E}`, 'gu'), 'trung học phổ thông'],
  [new RegExp(`${B}THCS${E}`, 'gu'), 'trung học cơ sở'],
  [new RegExp(`${B}ĐH${E}`, 'gu'), 'đại học'],
  [new RegExp(`${B}CLB${E}`, 'gu'), 'câu lạc bộ'],
  [new RegExp(`${B}HTX${E}`, 'gu'), 'hợp tác xã'],
  [new RegExp(`${B}NXB${E}`, 'gu'), 'nhà xuất bản'],
  [/\s&\s/g, ' và '],
];

/** A number as written in Vietnamese text: 1.000.000 (dot groups), 1,000,000 (two or more comma groups), 3,5 (decimal comma), 12.5, 42. */
const NUMBER = String.raw`\d{1,3}(?:\.\d{3})+(?![.,]?\d)|\d{1,3}(?:,\d{3}){2,}(?![.,]?\d)|\d+,\d+|\d+\.\d+|\d+`;

/** Reads one number token of {@link NUMBER}. */
function readNumber(token: string): string {
  if (/^\d{1,3}(?:\.\d{3})+$/.test(token)) return readDigitString(token.replace(/\./g, ''));
  if (/^\d{1,3}(?:,\d{3}){2,}$/.test(token)) return readDigitString(token.replace(/,/g, ''));
  const comma = /^(\d+),(\d+)$/.exec(token);
  if (comma) return `${readDigitString(comma[1]!)} phẩy ${readFraction(comma[2]!)}`;
  const dot = /^(\d+)\.(\d+)$/.exec(token);
  if (dot) return `${readDigitString(dot[1]!)} chấm ${readFraction(dot[2]!)}`;
  return readDigitString(token);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const UNIT_PATTERN = new RegExp(
  `${B}(${NUMBER})\\s?(${UNITS.map(([u]) => escapeRegExp(u)).join('|')})(?![\\p{L}\\p{N}\\p{M}²³])`,
  'gu',
);
const UNIT_WORDS = new Map(UNITS);

const valid = (day: number, month: number) => day >= 1 && day <= 31 && month >= 1 && month <= 12;

/**
 * Vietnamese text for a speech engine. Expects text without markdown (see `toSpokenText`).
 */
export function normalizeVietnameseForSpeech(input: string): string {
  let text = input
    // U+00D0 (Icelandic eth) is often typed for Đ (U+0110) in Vietnamese text; the engines differ.
    .replace(/\u00D0/g, '\u0110')
    .replace(/\u00F0/g, '\u0111');

  for (const [pattern, words] of ABBREVIATIONS) text = text.replace(pattern, words);

  // Dates: 2/9/1945, 02-09-1945 → ngày 2 tháng 9 năm 1945 (never adding a second "ngày").
  text = text.replace(
    new RegExp(`(${B}(?:ngày|mùng|mồng)\\s+)?${B}(\\d{1,2})([/-])(\\d{1,2})\\3(\\d{4})${E}`, 'giu'),
    (match, lead: string | undefined, d: string, _sep: string, m: string, y: string) =>
      valid(Number(d), Number(m)) ? `${lead ?? 'ngày '}${Number(d)} tháng ${monthWord(Number(m))} năm ${y}` : match,
  );
  // A day and month after "ngày" / "mùng": ngày 2/9 → ngày 2 tháng 9.
  text = text.replace(
    new RegExp(`(${B}(?:ngày|mùng|mồng)\\s+)(\\d{1,2})/(\\d{1,2})${E}`, 'giu'),
    (match, lead: string, d: string, m: string) => (valid(Number(d), Number(m)) ? `${lead}${Number(d)} tháng ${monthWord(Number(m))}` : match),
  );
  // Month and year: tháng 9/1945 → tháng 9 năm 1945.
  text = text.replace(new RegExp(`(${B}tháng\\s+)(\\d{1,2})/(\\d{4})${E}`, 'giu'), (match, lead: string, m: string, y: string) =>
    Number(m) >= 1 && Number(m) <= 12 ? `${lead}${monthWord(Number(m))} năm ${y}` : match,
  );
  // April is "tháng tư".
  text = text.replace(new RegExp(`(${B}tháng\\s+)0?4${E}`, 'giu'), '$1tư');

  // Times: 7:30, 07:30:15, 7h30, 7h.
  text = text.replace(new RegExp(`${B}(\\d{1,2}):(\\d{2})(?::(\\d{2}))?${E}`, 'gu'), (match, h: string, m: string, s?: string) => {
    if (Number(h) > 24 || Number(m) > 59 || (s !== undefined && Number(s) > 59)) return match;
    return clock(Number(h), Number(m), s === undefined ? undefined : Number(s));
  });
  text = text.replace(new RegExp(`${B}(\\d{1,2})h(\\d{2})?${E}`, 'gu'), (match, h: string, m?: string) =>
    Number(h) > 24 || Number(m ?? 0) > 59 ? match : clock(Number(h), Number(m ?? 0)),
  );

  // Ordinals and Roman numerals after words that take them.
  text = text.replace(new RegExp(`(${B}thứ\\s+)(1|4)${E}`, 'giu'), (_m, lead: string, n: string) => `${lead}${n === '1' ? 'nhất' : 'tư'}`);
  text = text.replace(
    new RegExp(`(${B}(?:thế kỷ|thế kỉ|thứ|chương|phần|tập|hồi|khóa|khoá|đại hội|quyển)\\s+)([IVXLCDM]+)${E}`, 'giu'),
    (match, lead: string, numeral: string) => {
      const value = romanValue(numeral);
      if (value === undefined) return match;
      if (/thứ\s+$/iu.test(lead) && (value === 1 || value === 4)) return `${lead}${value === 1 ? 'nhất' : 'tư'}`;
      return `${lead}${vietnameseNumber(value)}`;
    },
  );

  // Money before the number: $5 → năm đô la.
  text = text.replace(new RegExp(`\\$\\s?(${NUMBER})${E}`, 'gu'), (_m, n: string) => `${readNumber(n)} đô la`);
  // Units after a number: 5 km, 10kg, 50%, 25°C, 100.000đ.
  text = text.replace(UNIT_PATTERN, (_m, n: string, unit: string) => `${readNumber(n)} ${UNIT_WORDS.get(unit)}`);
  // Ranges: 5-10 → năm đến mười; fractions: 1/2 → một phần hai.
  text = text.replace(new RegExp(`${B}(${NUMBER})\\s?[-–]\\s?(${NUMBER})${E}`, 'gu'), (_m, a: string, b: string) => `${readNumber(a)} đến ${readNumber(b)}`);
  text = text.replace(new RegExp(`${B}(\\d{1,3})/(\\d{1,3})${E}`, 'gu'), (_m, a: string, b: string) => `${readNumber(a)} phần ${readNumber(b)}`);
  // Negative numbers: -5 → âm năm.
  text = text.replace(new RegExp(`(^|[\\s(])[-−](?=\\d)`, 'gu'), '$1âm ');
  // Every other number.
  text = text.replace(new RegExp(`${B}(${NUMBER})${E}`, 'gu'), (_m, n: string) => readNumber(n));
  return text;
}

/** A month's number as said after "tháng": 4 → tư (April), others as numbers. */
function monthWord(month: number): string {
  return month === 4 ? 'tư' : vietnameseNumber(month);
}

function clock(h: number, m: number, s?: number): string {
  const parts = [`${vietnameseNumber(h)} giờ`];
  if (m > 0 || (s !== undefined && s > 0)) parts.push(`${vietnameseNumber(m)} phút`);
  if (s !== undefined && s > 0) parts.push(`${vietnameseNumber(s)} giây`);
  return parts.join(' ');
}
