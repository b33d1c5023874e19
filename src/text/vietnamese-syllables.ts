/**
 * Vietnamese syllable shape: an optional initial consonant, a vowel group (one to three vowels,
 * from the list Vietnamese spelling allows) carrying at most one tone mark, and an optional final
 * consonant. Used to tell a correct decoding of Vietnamese from a wrong one, which yields letters in
 * impossible places ("ngaứy", "cafộ").
 */

/** The five tone marks as combining characters (grave, acute, tilde, hook above, dot below). */
const TONES = /[\u0300\u0301\u0303\u0309\u0323]/gu;

const INITIALS = ['ngh', 'ng', 'gh', 'gi', 'kh', 'nh', 'ph', 'th', 'tr', 'ch', 'qu', 'b', 'c', 'd', 'đ', 'g', 'h', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'x'];

const FINALS = ['ch', 'ng', 'nh', 'c', 'm', 'n', 'p', 't', 'i', 'y', 'o', 'u'];

/** Vowel groups of Vietnamese spelling without tone marks (with a final semivowel written here too). */
const VOWEL_GROUPS = new Set([
  ...['a', 'ă', 'â', 'e', 'ê', 'i', 'o', 'ô', 'ơ', 'u', 'ư', 'y'],
  ...['ai', 'ao', 'au', 'ay', 'âu', 'ây', 'eo', 'êu', 'ia', 'iê', 'iu', 'oa', 'oă', 'oe', 'oi', 'ôi', 'ơi', 'oo'],
  ...['ua', 'uâ', 'uê', 'ui', 'uô', 'uơ', 'uy', 'ưa', 'ưi', 'ươ', 'ưu', 'yê', 'uă', 'ưo'],
  ...['iêu', 'oai', 'oay', 'oao', 'oeo', 'uây', 'uôi', 'ươi', 'ươu', 'uya', 'uyê', 'uyu', 'yêu', 'uêu', 'uơi'],
]);

/**
 * Whether one word (letters only, any case) is spelled as a Vietnamese syllable can be.
 * "người", "khuya", "Đông" are; "ngaứy", "cafộ", "school" are not.
 */
export function isVietnameseSyllable(word: string): boolean {
  const decomposed = word.toLowerCase().normalize('NFD');
  const tones = decomposed.match(TONES)?.length ?? 0;
  if (tones > 1) return false;
  const bare = decomposed.replace(TONES, '').normalize('NFC');
  // Try every split into initial, vowel group and final.
  for (const initial of ['', ...INITIALS]) {
    if (!bare.startsWith(initial)) continue;
    const rest = bare.slice(initial.length);
    for (const final of ['', ...FINALS]) {
      if (!rest.endsWith(final)) continue;
      const vowels = rest.slice(0, rest.length - final.length);
      if (VOWEL_GROUPS.has(vowels)) return true;
    }
  }
  return false;
}

/**
 * Share (0-1) of the words holding a non-ASCII letter that are Vietnamese syllables, and how many
 * such words there are. Words of ASCII letters only are left out: they read the same in any
 * decoding (names, English words, Vietnamese written without marks).
 */
export function vietnameseSyllableShare(text: string): { words: number; share: number } {
  let words = 0;
  let valid = 0;
  for (const [word] of text.matchAll(/[\p{L}\p{M}]+/gu)) {
    // eslint-disable-next-line no-control-regex
    if (/^[\x00-\x7f]*$/.test(word)) continue;
    words++;
    if (isVietnameseSyllable(word)) valid++;
  }
  return { words, share: words === 0 ? 0 : valid / words };
}
