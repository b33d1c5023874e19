/**
 * Word timings: when each word of a clip is spoken. A speech provider that reports them (word
 * boundaries, alignment) is taken as it is; otherwise they are estimated inside the clip from its
 * decoded duration. Pure functions.
 *
 * The estimate: the clip's speech runs between its measured leading and trailing silence; every
 * word gets a share in proportion to how long it takes to say (syllables and letters of its
 * spoken form), punctuation after a word adds a pause (more at a sentence end than at a comma),
 * and a silence measured inside the clip pins the pause of the punctuation mark nearest it. Measured on espeak-ng clips against the engine's
 * own word events: see bench/word-timing/README.md.
 */

import { toSpokenText } from '../text/speech-text.js';
import type { Silence } from './ffmpeg-args.js';
import type { ProviderWordTiming, WordTiming } from '../shared/word-timing.js';


/** Weights of the estimate, in "letter" units. Fitted on espeak-ng clips (vi, en); see bench/word-timing. */
export const ESTIMATE_WEIGHTS = {
  /** Per syllable (vowel group of the spoken form). */
  syllable: 3,
  /** Per letter or digit of the spoken form. */
  letter: 1,
  /** After a word ending a clause (`,` `;` `:` dash, ellipsis). */
  clausePause: 7,
  /** After a word ending a sentence (`.` `!` `?`). */
  sentencePause: 10,
} as const;

/** Syllables of a spoken word: groups of vowels (diacritics ignored), at least one for a word with letters. */
export function countSyllables(spoken: string): number {
  const bare = spoken.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  const groups = bare.match(/[aeiouyæøœ]+/gu)?.length ?? 0;
  const letters = bare.match(/[\p{L}\p{N}]/gu)?.length ?? 0;
  if (letters === 0) return 0;
  // Scripts without Latin vowels: about one syllable per three letters.
  return groups || Math.max(1, Math.round(letters / 3));
}

interface WeightedWord {
  text: string;
  speech: number;
  pauseAfter: number;
}

/** The words of a text (split at white space), each with its speaking weight and the pause after it. */
function weighWords(text: string, language: string): WeightedWord[] {
  const tokens = text.split(/\s+/u).filter(Boolean);
  const words: WeightedWord[] = [];
  for (const token of tokens) {
    const spoken = toSpokenText(token, language);
    const letters = spoken.match(/[\p{L}\p{N}]/gu)?.length ?? 0;
    const trailing = /[.!?…,;:\u2014\u2013]+["'”’»)\]]*$/u.exec(token)?.[0] ?? '';
    const pauseAfter = /[.!?]/u.test(trailing)
      ? ESTIMATE_WEIGHTS.sentencePause
      : /[,;:\u2014\u2013…]/u.test(trailing)
        ? ESTIMATE_WEIGHTS.clausePause
        : 0;
    if (letters === 0) {
      // A lone mark ("—", "…") is no word: its pause goes to the word before it.
      if (words.length) words.at(-1)!.pauseAfter = Math.max(words.at(-1)!.pauseAfter, pauseAfter);
      continue;
    }
    const speech = ESTIMATE_WEIGHTS.syllable * countSyllables(spoken) + ESTIMATE_WEIGHTS.letter * letters;
    words.push({ text: token, speech, pauseAfter });
  }
  return words;
}

export interface EstimateOptions {
  /** ISO 639-1 code: the spoken form each word is weighed by. */
  language: string;
  /** Decoded duration of the clip, ms. */
  durationMs: number;
  /**
   * Silences measured in the clip (`silencedetect`, ms, in order). Leading and trailing silence
   * bound the speech; a silence inside is taken as the pause of the punctuation mark whose
   * estimated time is nearest (in order, within {@link ANCHOR_WINDOW}), and the words between two
   * such pauses share the time between them. Without silences the whole clip is speech.
   */
  silences?: Silence[];
}

/** How far (ms, or this share of the speech when larger) a silence may be from a pause's estimated time to be taken as it. */
export const ANCHOR_WINDOW = { ms: 350, share: 0.15 } as const;

/** Silences within this of the clip's start or end are its leading or trailing silence, ms. */
const EDGE_MS = 5;

/**
 * Estimated word timings of one clip, clip-relative ms, in order, never overlapping, inside the
 * clip's speech (see {@link EstimateOptions.silences}). The last word's pause is not counted.
 * @param text the clip's text as shown: each white-space separated token with letters or digits is one word.
 */
export function estimateWordTimings(text: string, options: EstimateOptions): WordTiming[] {
  const words = weighWords(text, options.language);
  if (!words.length) return [];
  const duration = Math.max(0, options.durationMs);
  const silences = (options.silences ?? []).filter((s) => s.endMs > s.startMs);
  const leading = silences.find((s) => s.startMs <= EDGE_MS && s.endMs < duration - EDGE_MS);
  const trailing = silences.find((s) => s.endMs >= duration - EDGE_MS && s.startMs > EDGE_MS);
  const start = leading?.endMs ?? 0;
  const end = Math.max(start, trailing?.startMs ?? duration);
  const inner = silences.filter((s) => s !== leading && s !== trailing && s.startMs >= start && s.endMs <= end);

  // Anchors, in order: word k ends at a silence's start and word k+1 starts at its end. Each
  // pause is predicted from the last anchor at the clip's mean rate; the longest nearby silence
  // (less a penalty for its distance) is taken.
  const weightOf = (from: number, to: number) =>
    words.slice(from, to + 1).reduce((sum, w, i, all) => sum + w.speech + (i < all.length - 1 ? w.pauseAfter : 0), 0);
  const total = weightOf(0, words.length - 1);
  const rate = total > 0 ? (end - start) / total : 0;
  const anchors: { after: number; silence: Silence }[] = [];
  let cursorMs = start;
  let cursorWord = 0;
  for (let k = 0; k < words.length - 1; k++) {
    if (words[k]!.pauseAfter === 0) continue;
    const predicted = cursorMs + rate * (weightOf(cursorWord, k) + words[k]!.pauseAfter / 2);
    const window = Math.max(ANCHOR_WINDOW.ms, ANCHOR_WINDOW.share * (predicted - cursorMs));
    let best: { silence: Silence; score: number } | undefined;
    for (const silence of inner) {
      if (silence.startMs < cursorMs) continue;
      const distance = Math.abs((silence.startMs + silence.endMs) / 2 - predicted);
      if (distance > window) continue;
      const score = silence.endMs - silence.startMs - 0.5 * distance;
      if (!best || score > best.score) best = { silence, score };
    }
    if (!best) continue;
    anchors.push({ after: k, silence: best.silence });
    cursorMs = best.silence.endMs;
    cursorWord = k + 1;
  }

  const out: WordTiming[] = [];
  let from = 0;
  let segmentStart = start;
  for (const anchor of [...anchors, { after: words.length - 1, silence: { startMs: end, endMs: end } }]) {
    out.push(...spread(words.slice(from, anchor.after + 1), segmentStart, Math.max(segmentStart, anchor.silence.startMs)));
    from = anchor.after + 1;
    segmentStart = anchor.silence.endMs;
  }
  return out.map((w) => ({ text: w.text, startMs: round1(w.startMs), endMs: round1(w.endMs) }));
}

/** Words laid over `[start, end]` by their weights; the last word's pause is not counted. */
function spread(words: WeightedWord[], start: number, end: number): WordTiming[] {
  const total = words.reduce((sum, w, i) => sum + w.speech + (i < words.length - 1 ? w.pauseAfter : 0), 0);
  const scale = total > 0 ? (end - start) / total : 0;
  let acc = 0;
  return words.map((w, i) => {
    const startMs = start + acc * scale;
    acc += w.speech;
    const endMs = start + acc * scale;
    if (i < words.length - 1) acc += w.pauseAfter;
    return { text: w.text, startMs, endMs };
  });
}

/**
 * Provider word timings checked and tidied: words without text dropped, times clamped to
 * `[0, durationMs]`, ordered and never overlapping. Undefined when nothing usable is left, so the
 * caller falls back to the estimate.
 */
export function acceptProviderWords(words: ProviderWordTiming[] | undefined, durationMs: number): WordTiming[] | undefined {
  if (!words?.length) return undefined;
  const out: WordTiming[] = [];
  let previousEnd = 0;
  for (const w of words) {
    const text = w.text.trim();
    if (!text || !Number.isFinite(w.startMs) || !Number.isFinite(w.endMs)) continue;
    const startMs = Math.min(durationMs, Math.max(previousEnd, w.startMs));
    const endMs = Math.min(durationMs, Math.max(startMs, w.endMs));
    out.push({ text, startMs: round1(startMs), endMs: round1(endMs) });
    previousEnd = endMs;
  }
  return out.length ? out : undefined;
}

/** Clip word timings moved onto the narration: every time plus the clip's start there, ms. */
export function shiftWords(words: WordTiming[], offsetMs: number): WordTiming[] {
  return words.map((w) => ({ text: w.text, startMs: round1(w.startMs + offsetMs), endMs: round1(w.endMs + offsetMs) }));
}

function round1(ms: number): number {
  return Math.round(ms * 10) / 10;
}
