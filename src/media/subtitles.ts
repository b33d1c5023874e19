/**
 * Subtitles from the narration timeline: sentence-level cues in the written form, long sentences
 * split so that every cue fits on two lines, and the SRT and WebVTT texts (ASS for burning in:
 * captions.ts).
 * Pure functions.
 */

import { speechWeight, toSpokenText } from '../text/speech-text.js';
import type { TimedSentence } from './timeline.js';

export interface SubtitleCue {
  startMs: number;
  endMs: number;
  /** One or two lines. */
  lines: string[];
}

export interface CueOptions {
  /** Most characters on one line. Default 42. */
  maxLineChars?: number;
  /** Most lines in one cue. Default 2. */
  maxLines?: number;
  /** The narration's decoded length: no cue ends after it. */
  durationMs: number;
  /** ISO 639-1 code, for the spoken length of the pieces of a split sentence. */
  language: string;
}

const chars = (s: string) => Array.from(s).length;

/**
 * Wraps text into lines of at most `maxChars` characters, as evenly as the words allow, or
 * returns undefined when it needs more than `maxLines` lines. A word longer than a line gets a
 * line of its own.
 */
export function wrapLines(text: string, maxChars: number, maxLines: number): string[] | undefined {
  const words = text.split(/\s+/u).filter(Boolean);
  if (!words.length) return [];
  // Fewest lines first; for that count, the break that makes the longest line shortest.
  for (let count = 1; count <= maxLines; count++) {
    const best = balancedLines(words, count, maxChars);
    if (best) return best;
  }
  return undefined;
}

function balancedLines(words: string[], count: number, maxChars: number): string[] | undefined {
  if (count === 1) {
    const line = words.join(' ');
    return chars(line) <= maxChars || words.length === 1 ? [line] : undefined;
  }
  let best: string[] | undefined;
  let bestLongest = Infinity;
  for (let cut = 1; cut < words.length; cut++) {
    const first = words.slice(0, cut).join(' ');
    if (chars(first) > maxChars && cut > 1) break;
    const rest = balancedLines(words.slice(cut), count - 1, maxChars);
    if (!rest) continue;
    const longest = Math.max(chars(first), ...rest.map(chars));
    if (longest < bestLongest) {
      best = [first, ...rest];
      bestLongest = longest;
    }
  }
  return best;
}

/** Where a long sentence is best cut: after a clause mark, else at a space. */
const CLAUSE_END = /[,;:\u2026\u2014\u2013)\]»”"]+(?=\s)/gu;

/**
 * Splits a sentence into pieces that each fit `maxLines` lines of `maxLineChars`: at the clause
 * mark nearest the middle (when one is in the middle half), else at the space nearest the middle,
 * recursively.
 */
export function splitForCues(text: string, maxLineChars = 42, maxLines = 2): string[] {
  const clean = text.replace(/\s+/gu, ' ').trim();
  if (!clean) return [];
  if (wrapLines(clean, maxLineChars, maxLines)) return [clean];
  const spaces = [...clean.matchAll(/ /gu)].map((m) => m.index);
  if (!spaces.length) return [clean];
  const middle = clean.length / 2;
  const nearest = (cuts: number[]) => cuts.reduce((a, b) => (Math.abs(b - middle) < Math.abs(a - middle) ? b : a));
  const clauseCuts = [...clean.matchAll(CLAUSE_END)]
    .map((m) => m.index + m[0].length)
    .filter((cut) => cut > clean.length * 0.25 && cut < clean.length * 0.75);
  const cut = clauseCuts.length ? nearest(clauseCuts) : nearest(spaces);
  return [...splitForCues(clean.slice(0, cut), maxLineChars, maxLines), ...splitForCues(clean.slice(cut), maxLineChars, maxLines)];
}

/**
 * One cue per sentence (several for a long one, sharing its time by spoken length), in order,
 * never overlapping, inside `[0, durationMs]`. Sentences with nothing to show or no time are left out.
 */
export function buildCues(sentences: TimedSentence[], options: CueOptions): SubtitleCue[] {
  const maxLineChars = options.maxLineChars ?? 42;
  const maxLines = options.maxLines ?? 2;
  const cues: SubtitleCue[] = [];
  for (const sentence of sentences) {
    if (!sentence.text || sentence.endMs - sentence.startMs < 1) continue;
    const pieces = splitForCues(sentence.text, maxLineChars, maxLines);
    const weights = pieces.map((p) => Math.max(1, speechWeight(toSpokenText(p, options.language))));
    const total = weights.reduce((a, b) => a + b, 0);
    let acc = 0;
    pieces.forEach((piece, i) => {
      const start = sentence.startMs + ((sentence.endMs - sentence.startMs) * acc) / total;
      acc += weights[i]!;
      const end = sentence.startMs + ((sentence.endMs - sentence.startMs) * acc) / total;
      cues.push({ startMs: start, endMs: end, lines: wrapLines(piece, maxLineChars, maxLines) ?? [piece] });
    });
  }
  // Whole milliseconds, in order, inside the narration; a cue that would be empty is dropped.
  const out: SubtitleCue[] = [];
  let previousEnd = 0;
  for (const cue of cues) {
    const startMs = Math.max(previousEnd, Math.round(cue.startMs));
    const endMs = Math.min(Math.round(options.durationMs), Math.round(cue.endMs));
    if (endMs <= startMs) continue;
    out.push({ startMs, endMs, lines: cue.lines });
    previousEnd = endMs;
  }
  return out;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `HH:MM:SS{sep}mmm`. */
export function formatTimestamp(ms: number, separator: ',' | '.'): string {
  const total = Math.max(0, Math.round(ms));
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor(total / 60_000) % 60;
  const s = Math.floor(total / 1000) % 60;
  return `${pad(h)}:${pad(m)}:${pad(s)}${separator}${pad(total % 1000, 3)}`;
}

/** SubRip text (UTF-8, LF line ends, numbered cues). */
export function toSrt(cues: SubtitleCue[]): string {
  return cues
    .map((cue, i) => `${i + 1}\n${formatTimestamp(cue.startMs, ',')} --> ${formatTimestamp(cue.endMs, ',')}\n${cue.lines.join('\n')}\n`)
    .join('\n');
}

/** WebVTT text; `&`, `<` and `>` escaped. */
export function toVtt(cues: SubtitleCue[], language?: string): string {
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const header = language ? `WEBVTT\nLanguage: ${language}\n` : 'WEBVTT\n';
  const body = cues
    .map((cue) => `${formatTimestamp(cue.startMs, '.')} --> ${formatTimestamp(cue.endMs, '.')}\n${cue.lines.map(escape).join('\n')}\n`)
    .join('\n');
  return `${header}\n${body}`;
}
