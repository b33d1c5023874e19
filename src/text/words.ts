import { countWordsFast } from './word-count-fast.js';

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
 * Longest text given to one `Intl.Segmenter.segment` call, characters. V8's segment iterator
 * slows down faster than linearly on long strings (measured here: 92 k characters 0.6 s, 185 k
 * characters 13 s), so long text is segmented in pieces.
 */
const MAX_PIECE_CHARS = 8_000;

/** Where a piece may end, best first: after a sentence end and its closing quotes, then at a space. */
const SENTENCE_END = /[.!?…。！？]["'”’»)\]]*\s/g;

/**
 * Splits text into pieces that `Intl.Segmenter` handles quickly and that no word or sentence
 * crosses: at line breaks, and within a longer line after the last sentence end (else the last
 * space) before {@link MAX_PIECE_CHARS}. Offsets are into `text`.
 */
export function* segmentPieces(text: string): Generator<{ start: number; end: number }> {
  let start = 0;
  while (start < text.length) {
    const newline = text.indexOf('\n', start);
    const lineEnd = newline === -1 ? text.length : newline + 1;
    let end = lineEnd;
    if (end - start > MAX_PIECE_CHARS) {
      const window = text.slice(start, start + MAX_PIECE_CHARS);
      let cut = -1;
      for (const match of window.matchAll(SENTENCE_END)) cut = match.index + match[0].length;
      if (cut <= 0) cut = Math.max(window.lastIndexOf(' '), window.lastIndexOf('\t')) + 1;
      end = start + (cut > 0 ? cut : MAX_PIECE_CHARS);
    }
    yield { start, end };
    start = end;
  }
}

/** `Intl.Segmenter` segments of the whole text, read piece by piece; `index` is into `text`. */
export function* segmentText(
  text: string,
  language: string | undefined,
  granularity: 'word' | 'sentence',
): Generator<{ segment: string; index: number; isWordLike: boolean }> {
  const segmenter = segmenterFor(language, granularity);
  for (const piece of segmentPieces(text)) {
    for (const part of segmenter.segment(text.slice(piece.start, piece.end))) {
      yield { segment: part.segment, index: piece.start + part.index, isWordLike: part.isWordLike === true };
    }
  }
}

/**
 * Counts the words in `text` the way `Intl.Segmenter` (ICU, Unicode UAX #29 plus dictionaries for
 * Thai, Chinese, Japanese …) sees them: segments that are word-like, so punctuation, spaces and
 * symbols do not count. Numbers count as words. Vietnamese counts syllables (they are written
 * apart), which is also what the seed's `wordPerChunk*` settings assume.
 *
 * Pieces of alphabetic text (Latin, Vietnamese, Greek, Cyrillic) are counted by
 * `countWordsFast`, which gives the same count in one pass without segment objects; the rest
 * by `Intl.Segmenter`.
 *
 * @param text any text
 * @param language BCP 47 / ISO 639-1 code (`en`, `vi` …); undefined or unknown uses the default locale
 * @returns number of words, 0 for empty or punctuation-only text
 */
export function countWords(text: string, language?: string): number {
  // Pieces end where a segment ends, so the whole text gives the same count when it can be read at once.
  const whole = countWordsFast(text);
  if (whole !== undefined) return whole;
  let count = 0;
  let segmenter: Intl.Segmenter | undefined;
  for (const piece of segmentPieces(text)) {
    const fast = countWordsFast(text, piece.start, piece.end);
    if (fast !== undefined) {
      count += fast;
      continue;
    }
    segmenter ??= segmenterFor(language, 'word');
    for (const part of segmenter.segment(text.slice(piece.start, piece.end))) {
      if (part.isWordLike) count++;
    }
  }
  return count;
}
