import { countWords, segmenterFor, segmentText } from './words.js';

/** A half-open range `[start, end)` of UTF-16 code unit offsets into a string. */
export interface TextSpan {
  start: number;
  end: number;
}

export interface ChunkOptions {
  /** Most words in one chunk, as `countWords` counts them: `wordPerChunkImage` or `wordPerChunkAudio`. */
  maxWords: number;
  /**
   * Most characters in one chunk, counted as JavaScript string length (UTF-16 code units, never
   * fewer than code points, so the limit also holds for engines that count code points): the
   * speech synthesizer's `maxInputChars` (OpenAI speech: 4,096).
   */
  maxChars: number;
  /** ISO 639-1 code of the text, for sentence and word boundaries. */
  language: string;
}

/** A newline with no other newline next to it: a wrapped line, not a paragraph break. */
const LONE_NEWLINE = /(?<!\n[^\S\n]*)\n(?![^\S\n]*\n)/g;

/**
 * Clause boundaries, where an over-long sentence may be cut. Each match ends where the cut goes:
 * after , ; : … (and Chinese/Japanese/Arabic equivalents) plus any closing quotes, when a space
 * follows (so "3,000" and "10:30" stay whole); after an em dash or bar glued to words
 * ("evening—the"); before a dash with spaces around it ("envoie. — Le Loup").
 */
const CLAUSE_CUT =
  /(?:[,;:\u2026]|\.\.\.)[\u201D\u2019\u00BB"')\]]*(?=\s)|[\uFF0C\uFF1B\uFF1A\u3001\u060C\u061B]|[\u2014\u2015](?=\S)|\s(?=[-\u2013\u2014\u2015]\s)/gu;

/** A sentence that ends in "!" or "?" (and closing quotes or brackets). */
const EXCLAIM_OR_ASK_END = /[!?\uFF01\uFF1F][\s"'\u201D\u2019\u00BB)\]]*$/u;
/** Text that starts (after opening quotes or dashes) with a lower-case letter. */
const LOWER_START = /^["'\u201C\u2018\u201D\u2019\u00AB\u00BB([\s\u2014\u2013-]*\p{Ll}/u;

/**
 * Splits text into sentences with `Intl.Segmenter` (granularity `sentence`, Unicode UAX #29).
 *
 * A single line break inside a paragraph (hard-wrapped text) does not end a sentence; a blank line
 * does. Each span is trimmed of surrounding whitespace, and whitespace-only segments are dropped.
 * Text with a missing space after a full stop ("tả tơi.Người") may stay one sentence: UAX #29
 * does not break there. A piece after "!" or "?" that starts in lower case ("'Oh!' said she")
 * continues the sentence before it.
 *
 * @param text any text (normalised text gives the best results)
 * @param language ISO 639-1 / BCP 47 code; unknown codes use the default rules
 * @returns spans in text order, as offsets into `text` (`text.slice(start, end)` is the sentence)
 */
export function splitSentences(text: string, language: string): TextSpan[] {
  // Same length as `text`, so offsets found in it are offsets into `text`.
  const probe = text.replace(LONE_NEWLINE, ' ');
  const spans: TextSpan[] = [];
  for (const segment of segmentText(probe, language, 'sentence')) {
    const span = trimSpan(text, segment.index, segment.index + segment.segment.length);
    if (!span) continue;
    const previous = spans.at(-1);
    // UAX #29 breaks after "!" or "?" even when the sentence goes on ("'Oh!' said the girl"):
    // a piece that starts in lower case continues the previous sentence.
    if (previous && EXCLAIM_OR_ASK_END.test(text.slice(previous.start, previous.end)) && LOWER_START.test(text.slice(span.start, span.end))) {
      previous.end = span.end;
    } else {
      spans.push(span);
    }
  }
  return spans;
}

/**
 * Cuts text into chunks for images or narration.
 *
 * Whole sentences are packed greedily, in order, into chunks of at most `maxWords` words and at
 * most `maxChars` characters (the characters between sentences, line breaks included, count).
 * A sentence over either limit is cut at clause boundaries (, ; : — – …) first, then at spaces,
 * then between words as `Intl.Segmenter` finds them (scripts without spaces, long hyphenated
 * runs), and a single word longer than `maxChars` is cut between characters (graphemes); those
 * pieces are then packed like sentences. A chunk is the original substring, trimmed, so paragraph
 * breaks inside a chunk are kept. No chunk is empty.
 *
 * @returns the chunks in order; `[]` when the text holds nothing but whitespace
 * @throws RangeError when `maxWords` or `maxChars` is not a positive integer
 */
export function chunkText(text: string, options: ChunkOptions): string[] {
  const { maxWords, maxChars, language } = options;
  if (!Number.isInteger(maxWords) || maxWords < 1) throw new RangeError(`maxWords must be a positive integer, got ${maxWords}`);
  if (!Number.isInteger(maxChars) || maxChars < 1) throw new RangeError(`maxChars must be a positive integer, got ${maxChars}`);

  const units: Unit[] = [];
  const limits = { maxWords, maxChars, language };
  for (const sentence of splitSentences(text, language)) {
    addUnits(text, sentence, 'clause', limits, units);
  }

  const chunks: string[] = [];
  let current: Unit | undefined;
  for (const unit of units) {
    if (current && current.words + unit.words <= maxWords && unit.end - current.start <= maxChars) {
      current = { start: current.start, end: unit.end, words: current.words + unit.words };
    } else {
      if (current) chunks.push(text.slice(current.start, current.end));
      current = unit;
    }
  }
  if (current) chunks.push(text.slice(current.start, current.end));
  return chunks;
}

interface Unit extends TextSpan {
  words: number;
}

/** From coarse to fine: where an over-long span may be cut. */
const LEVELS = ['clause', 'space', 'word', 'character'] as const;
type Level = (typeof LEVELS)[number];

/** Appends `span` as one unit when it fits, otherwise its pieces at the next finer level. */
function addUnits(text: string, span: TextSpan, level: Level, limits: ChunkOptions, units: Unit[]): void {
  const words = countWords(text.slice(span.start, span.end), limits.language);
  if (words <= limits.maxWords && span.end - span.start <= limits.maxChars) {
    units.push({ ...span, words });
    return;
  }
  if (level === 'character') {
    for (const piece of characterPieces(text, span, limits.maxChars)) {
      units.push({ ...piece, words: countWords(text.slice(piece.start, piece.end), limits.language) });
    }
    return;
  }
  const pieces =
    level === 'clause' ? clausePieces(text, span) : level === 'space' ? spacePieces(text, span) : wordPieces(text, span, limits.language);
  const next = LEVELS[LEVELS.indexOf(level) + 1];
  if (pieces.length <= 1) {
    addUnits(text, span, next, limits, units);
    return;
  }
  for (const piece of pieces) addUnits(text, piece, next, limits, units);
}

function clausePieces(text: string, span: TextSpan): TextSpan[] {
  const cuts: number[] = [];
  for (const match of text.slice(span.start, span.end).matchAll(CLAUSE_CUT)) {
    cuts.push(span.start + match.index + match[0].length);
  }
  return piecesBetween(text, span, cuts);
}

/** Pieces between whitespace: words as written, with their punctuation ("mère-grand;" stays whole). */
function spacePieces(text: string, span: TextSpan): TextSpan[] {
  const cuts: number[] = [];
  for (const match of text.slice(span.start, span.end).matchAll(/\s+/gu)) cuts.push(span.start + match.index);
  return piecesBetween(text, span, cuts);
}

/**
 * Pieces that each start at a word as `Intl.Segmenter` finds it: for scripts written without
 * spaces (Thai, Chinese, Japanese) and for hyphenated runs longer than a chunk.
 */
function wordPieces(text: string, span: TextSpan, language: string): TextSpan[] {
  const cuts: number[] = [];
  for (const segment of segmenterFor(language, 'word').segment(text.slice(span.start, span.end))) {
    if (segment.isWordLike && segment.index > 0) cuts.push(span.start + segment.index);
  }
  return piecesBetween(text, span, cuts);
}

/**
 * Hard cuts of at most `maxChars` characters, between graphemes so that no accent is separated
 * from its letter. A grapheme longer than `maxChars` is cut between code points; a single code
 * point longer than `maxChars` (a surrogate pair when `maxChars` is 1) is kept whole.
 */
function characterPieces(text: string, span: TextSpan, maxChars: number): TextSpan[] {
  const pieces: TextSpan[] = [];
  let start = span.start;
  let end = span.start;
  const take = (length: number): void => {
    if (end + length - start > maxChars && end > start) {
      pieces.push({ start, end });
      start = end;
    }
    end += length;
  };
  for (const { segment } of segmenterFor(undefined, 'grapheme').segment(text.slice(span.start, span.end))) {
    if (segment.length <= maxChars) take(segment.length);
    else for (const codePoint of segment) take(codePoint.length);
  }
  if (end > start) pieces.push({ start, end });
  return pieces.map((piece) => trimSpan(text, piece.start, piece.end)).filter((piece): piece is TextSpan => !!piece);
}

function piecesBetween(text: string, span: TextSpan, cuts: number[]): TextSpan[] {
  const bounds = [span.start, ...cuts.filter((cut) => cut > span.start && cut < span.end), span.end];
  const pieces: TextSpan[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const piece = trimSpan(text, bounds[i], bounds[i + 1]);
    if (piece) pieces.push(piece);
  }
  return pieces;
}

function trimSpan(text: string, start: number, end: number): TextSpan | undefined {
  while (start < end && /\s/u.test(text[start])) start++;
  while (end > start && /\s/u.test(text[end - 1])) end--;
  return start < end ? { start, end } : undefined;
}
