/**
 * A word counter for alphabetic text that gives the same count as `Intl.Segmenter` (ICU's word
 * rules, Unicode UAX #29) at a small fraction of its cost: one pass over the UTF-16 code units
 * with a class table, no segment objects. It reads only the code points in {@link FAST_RANGES}
 * (Latin, Vietnamese, Greek, Cyrillic, common punctuation and spaces) and gives up on anything
 * else (`undefined`), so that dictionary scripts (Thai, Chinese, Japanese …), Hebrew, emoji and
 * the rarer rules stay with `Intl.Segmenter`. Checked against `Intl.Segmenter` on random text in
 * test/unit/text/word-count-fast.test.ts.
 *
 * The rules it follows (UAX #29 numbering; X = Extend, Format or ZWJ):
 * - WB4: X is transparent after any character except at the start and after a line break;
 * - WB5–WB13b: letters, digits and connectors (`_`, U+202F …) join; a letter, MidLetter (`:`,
 *   `·`) or MidNumLet (`.`, `'`, `’`) and a letter join; a digit, MidNum (`,`, `;`) or MidNumLet
 *   and a digit join; everything else breaks;
 * - a segment is word-like when it holds a letter or a digit, or (ICU) two connectors or more;
 *   a connector followed by X is left to `Intl.Segmenter` (ICU then counts by the segment's end).
 */

/** Character classes of the word rules, as far as counting needs them. */
const enum C {
  /** Breaks on both sides and holds no word: spaces, punctuation, symbols, line breaks. */
  Other = 0,
  Letter = 1,
  Digit = 2,
  /** ExtendNumLet: `_` and the other connectors. */
  Connector = 3,
  MidLetter = 4,
  MidNumLet = 5,
  MidNum = 6,
  /** Extend, Format, ZWJ: transparent (WB4). */
  Extend = 7,
  /** A line break: Other, and X after it is not transparent (WB3a/b). */
  Newline = 8,
  /** Outside the table: the text is left to `Intl.Segmenter`. */
  Unknown = 9,
}

/** Code point ranges the table covers, [first, last] inclusive. */
export const FAST_RANGES: readonly (readonly [number, number])[] = [
  [0x0009, 0x000d],
  [0x0020, 0x007e],
  [0x0085, 0x0085],
  [0x00a0, 0x024f], // Latin-1 Supplement, Latin Extended-A and -B
  [0x0300, 0x036f], // combining diacritical marks (decomposed Vietnamese, French …)
  [0x0370, 0x03ff], // Greek
  [0x0400, 0x04ff], // Cyrillic
  [0x1e00, 0x1eff], // Latin Extended Additional (precomposed Vietnamese)
  [0x2000, 0x206f], // General Punctuation: spaces, dashes, quotes, ellipsis
];

const TABLE_SIZE = 0x2070;

const CLASSES: Uint8Array = (() => {
  const table = new Uint8Array(TABLE_SIZE).fill(C.Unknown);
  const letter = /^\p{Alphabetic}$/u;
  const mark = /^[\p{M}\p{Cf}]$/u;
  const unassigned = /^\p{Cn}$/u;
  for (const [first, last] of FAST_RANGES) {
    for (let cp = first; cp <= last; cp++) {
      const ch = String.fromCodePoint(cp);
      // Unassigned code points may get a word class in a later Unicode version: leave them to ICU.
      table[cp] = unassigned.test(ch) ? C.Unknown : mark.test(ch) ? C.Extend : letter.test(ch) ? C.Letter : C.Other;
    }
  }
  for (let cp = 0x30; cp <= 0x39; cp++) table[cp] = C.Digit;
  for (const cp of [0x0a, 0x0b, 0x0c, 0x0d, 0x85, 0x2028, 0x2029]) table[cp] = C.Newline;
  for (const cp of [0x3a, 0xb7, 0x387, 0x2027]) table[cp] = C.MidLetter;
  for (const cp of [0x27, 0x2e, 0x2018, 0x2019, 0x2024]) table[cp] = C.MidNumLet;
  for (const cp of [0x2c, 0x3b, 0x37e, 0x2044]) table[cp] = C.MidNum;
  for (const cp of [0x5f, 0x202f, 0x203f, 0x2040, 0x2054]) table[cp] = C.Connector;
  // Not Alphabetic, yet ALetter in UAX #29: the cedilla.
  table[0xb8] = C.Letter;
  // ZWJ before a pictograph joins it (WB3c) and ICU then counts no word: left to ICU.
  table[0x200d] = C.Unknown;
  // Cf characters that UAX #29 does not make Format: zero-width space (Other).
  table[0x200b] = C.Other;
  return table;
})();

/**
 * Counts the word-like segments of `text.slice(start, end)` as `Intl.Segmenter` (word
 * granularity; the same for every language Storyforge detects) does.
 * @returns the count, or undefined when that text holds a character outside {@link FAST_RANGES}
 *   or a sequence whose ICU reading is a quirk (count it with `Intl.Segmenter` then). Linear in
 *   the length of the text.
 */
export function countWordsFast(text: string, start = 0, end = text.length): number | undefined {
  // Classes with X removed (WB4); X at the start or after a line break stays as Other.
  const classes = new Uint8Array(Math.max(0, end - start));
  let m = 0;
  let previous: number = C.Newline;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    const cls = code < TABLE_SIZE ? CLASSES[code]! : C.Unknown;
    if (cls === C.Unknown) return undefined;
    if (cls === C.Extend) {
      // ICU makes a segment that ends in a connector and X not word-like ("a_\u0301"): a quirk left to ICU.
      if (previous === C.Connector) return undefined;
      if (previous !== C.Newline) continue;
      classes[m++] = previous = C.Other;
      continue;
    }
    classes[m++] = previous = cls;
  }

  let words = 0;
  let i = 0;
  while (i < m) {
    let cls = classes[i]!;
    if (cls !== C.Letter && cls !== C.Digit && cls !== C.Connector) {
      i++;
      continue;
    }
    let wordLike = cls !== C.Connector;
    let connectors = cls === C.Connector ? 1 : 0;
    i++;
    while (i < m) {
      const next = classes[i]!;
      if (next === C.Letter || next === C.Digit || next === C.Connector) {
        if (next === C.Connector) connectors++;
        else wordLike = true;
        cls = next;
        i++;
        continue;
      }
      const after = i + 1 < m ? classes[i + 1]! : C.Other;
      const letterMid = cls === C.Letter && after === C.Letter && (next === C.MidLetter || next === C.MidNumLet);
      const digitMid = cls === C.Digit && after === C.Digit && (next === C.MidNum || next === C.MidNumLet);
      if (!letterMid && !digitMid) break;
      cls = after;
      i += 2;
    }
    if (wordLike || connectors >= 2) words++;
  }
  return words;
}
