const segmenters = new Map<string, Intl.Segmenter>();

/**
 * One cached `Intl.Segmenter` per language and granularity. An unknown or malformed language tag
 * falls back to the default locale instead of throwing.
 */
export function segmenterFor(language: string | undefined, granularity: 'word' | 'sentence' | 'grapheme'): Intl.Segmenter {
  const key = `${language ?? ''}|${granularity}`;
  let segmenter = segmenters.get(key);
  if (!segmenter) {
    try {
      segmenter = new Intl.Segmenter(language || undefined, { granularity });
    } catch {
      segmenter = new Intl.Segmenter(undefined, { granularity });
    }
    segmenters.set(key, segmenter);
  }
  return segmenter;
}

/**
 * Counts the words in `text` the way `Intl.Segmenter` (ICU, Unicode UAX #29 plus dictionaries for
 * Thai, Chinese, Japanese …) sees them: segments that are word-like, so punctuation, spaces and
 * symbols do not count. Numbers count as words. Vietnamese counts syllables (they are written
 * apart), which is also what the seed's `wordPerChunk*` settings assume.
 *
 * @param text any text
 * @param language BCP 47 / ISO 639-1 code (`en`, `vi` …); undefined or unknown uses the default locale
 * @returns number of words, 0 for empty or punctuation-only text
 */
export function countWords(text: string, language?: string): number {
  let count = 0;
  for (const segment of segmenterFor(language, 'word').segment(text)) {
    if (segment.isWordLike) count++;
  }
  return count;
}
