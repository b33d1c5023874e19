/**
 * The narration timeline: where each clip, sentence and image sits in the merged narration, from
 * the clips' decoded durations and the pause the merge put between them. Pure functions.
 *
 * - Clip i starts at Σ_{j<i} (duration_j + pause) — exactly what `buildJoinClipsArgs` writes
 *   (each clip resampled sample-exactly, `round(pause × rate)` samples of silence between clips).
 * - Within a clip, sentences share its duration in proportion to how long they take to say
 *   ({@link speechWeight} of their spoken form: letters and digits after numbers and
 *   abbreviations are written out as words, plus pauses at punctuation).
 * - Image chunks and audio chunks are cut separately from the same story text; an image starts
 *   when the first character of its text is spoken (by character offsets into the story text). An
 *   image that starts where a clip starts takes over in the middle of the pause before that clip.
 * - A clip's word timings (media/word-timings.ts) move onto the narration by the clip's start.
 */

import { splitSentences } from '../text/chunking.js';
import { speechWeight, toDisplayText, toSpokenText } from '../text/speech-text.js';
import { shiftWords } from './word-timings.js';
import type { WordTiming } from '../shared/word-timing.js';

export interface TimelineClipInput {
  /** The chunk's text as written (a substring of the story text). */
  text: string;
  /** Decoded duration of the clip, ms. */
  durationMs: number;
  /** The clip's word timings, clip-relative ms (none for a clip made before they were kept). */
  words?: WordTiming[] | null;
}

export interface TimelineImageInput {
  /** Position of the image chunk in the story (its index). */
  index: number;
  /** The chunk's text as written (a substring of the story text). */
  text: string;
}

export interface TimelineInput {
  /** The story text the chunks were cut from. */
  content: string;
  /** ISO 639-1 code (sentence rules and the spoken form). */
  language: string;
  /** Silence between two clips in the narration, ms. */
  pauseMs: number;
  /** Audio chunks in narration order. */
  clips: TimelineClipInput[];
  /** Image chunks in story order. */
  images: TimelineImageInput[];
}

/** A half-open time range `[startMs, endMs)` and, when known, the text range `[charStart, charEnd)` in the story text. */
export interface TimedSpan {
  startMs: number;
  endMs: number;
  charStart: number;
  charEnd: number;
}

export interface TimedSentence extends TimedSpan {
  /** Index of the clip (in narration order) that speaks it. */
  clip: number;
  /** The sentence as a reader sees it (markdown removed, everything else as written). */
  text: string;
  /** Its share of the clip, in {@link speechWeight} units. */
  weight: number;
}

export interface TimedImage extends TimedSpan {
  /** The image chunk's index. */
  index: number;
}

export interface Timeline {
  /** End of the last clip: the narration's length as the timeline computes it, ms. */
  durationMs: number;
  clips: (TimedSpan & { index: number })[];
  sentences: TimedSentence[];
  images: TimedImage[];
  /** Every clip's words moved onto the narration (clip start added), ms, in order. */
  words: WordTiming[];
}

/**
 * Finds each chunk in the story text, in order (chunks are trimmed substrings of it).
 * @returns the character offset of each chunk, or -1 for a chunk that is not found after the previous one.
 */
export function locateChunks(content: string, texts: string[]): number[] {
  let cursor = 0;
  return texts.map((text) => {
    const at = content.indexOf(text, cursor);
    if (at < 0) return -1;
    cursor = at + text.length;
    return at;
  });
}

/** Builds the timeline; see the module comment for the rules. */
export function buildTimeline(input: TimelineInput): Timeline {
  const { content, language, pauseMs } = input;
  const clipOffsets = locateChunks(content, input.clips.map((c) => c.text));
  const clips: Timeline['clips'] = [];
  const sentences: TimedSentence[] = [];
  const words: WordTiming[] = [];
  let cursorMs = 0;
  input.clips.forEach((clip, i) => {
    const startMs = i === 0 ? 0 : cursorMs + pauseMs;
    const endMs = startMs + Math.max(0, clip.durationMs);
    cursorMs = endMs;
    const base = clipOffsets[i]!;
    clips.push({ index: i, startMs, endMs, charStart: base, charEnd: base < 0 ? -1 : base + clip.text.length });
    sentences.push(...timeSentences(clip.text, base, i, startMs, endMs, language));
    if (clip.words) words.push(...shiftWords(clip.words, startMs));
  });
  const durationMs = cursorMs;

  const imageOffsets = locateChunks(content, input.images.map((c) => c.text));
  const located = imageOffsets.every((o) => o >= 0) && clipOffsets.every((o) => o >= 0);
  const starts = input.images.map((image, k) => {
    if (k === 0) return 0;
    return located ? timeAtOffset(imageOffsets[k]!, sentences, clips) : proportionalStart(input.images, k, durationMs);
  });
  const images: TimedImage[] = input.images.map((image, k) => {
    const startMs = Math.min(durationMs, Math.max(starts[k]!, k > 0 ? starts[k - 1]! : 0));
    const next = k + 1 < starts.length ? Math.max(starts[k + 1]!, startMs) : durationMs;
    return {
      index: image.index,
      startMs,
      endMs: Math.min(durationMs, next),
      charStart: imageOffsets[k]!,
      charEnd: imageOffsets[k]! < 0 ? -1 : imageOffsets[k]! + image.text.length,
    };
  });
  return { durationMs, clips, sentences, images, words };
}

/** The sentences of one clip, each with its share of the clip's time. */
function timeSentences(text: string, base: number, clip: number, startMs: number, endMs: number, language: string): TimedSentence[] {
  const spans = splitSentences(text, language);
  const pieces = (spans.length ? spans : [{ start: 0, end: text.length }]).map((span) => {
    const written = text.slice(span.start, span.end);
    return { span, written, weight: speechWeight(toSpokenText(written, language)) };
  });
  const total = pieces.reduce((sum, p) => sum + p.weight, 0);
  const duration = endMs - startMs;
  let acc = 0;
  return pieces.map(({ span, written, weight }) => {
    const from = startMs + (total > 0 ? (duration * acc) / total : 0);
    acc += weight;
    const to = total > 0 ? startMs + (duration * acc) / total : endMs;
    return {
      clip,
      startMs: from,
      endMs: to,
      charStart: base < 0 ? -1 : base + span.start,
      charEnd: base < 0 ? -1 : base + span.end,
      text: toDisplayText(written),
      weight,
    };
  });
}

/**
 * When the character at `offset` of the story text is spoken: inside a sentence, in proportion
 * to its position; at (or before) the first sentence of a clip, the middle of the pause before
 * the clip; at another sentence start, that sentence's start.
 */
export function timeAtOffset(offset: number, sentences: TimedSentence[], clips: Timeline['clips']): number {
  const i = sentences.findIndex((s) => s.charEnd > offset && s.weight > 0);
  if (i < 0) return clips.at(-1)?.endMs ?? 0;
  const s = sentences[i]!;
  if (s.charStart < offset) {
    return s.startMs + ((s.endMs - s.startMs) * (offset - s.charStart)) / Math.max(1, s.charEnd - s.charStart);
  }
  const previous = sentences.slice(0, i).findLast((p) => p.weight > 0);
  if (!previous) return 0;
  return previous.clip === s.clip ? s.startMs : (previous.endMs + s.startMs) / 2;
}

/** Fallback when chunks cannot be found in the text: images share the time by their text length. */
function proportionalStart(images: TimelineImageInput[], k: number, durationMs: number): number {
  const lengths = images.map((image) => Math.max(1, image.text.length));
  const total = lengths.reduce((a, b) => a + b, 0);
  const before = lengths.slice(0, k).reduce((a, b) => a + b, 0);
  return (durationMs * before) / total;
}
