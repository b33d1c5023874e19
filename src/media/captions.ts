/**
 * Word-timed captions: words grouped into short phrases, a word-level WebVTT (each phrase a cue,
 * each later word behind an inline timestamp, as karaoke players show it), and the ASS script of
 * the `shorts` preset (one to four words at a time, the spoken word highlighted with karaoke
 * tags). Pure functions; times in ms on the narration.
 */

import { formatTimestamp } from './subtitles.js';
import type { WordTiming } from './word-timings.js';

/** A few words shown together. */
export interface CaptionGroup {
  startMs: number;
  endMs: number;
  words: WordTiming[];
}

export interface GroupOptions {
  /** Most words in a group. Default 4 (1–4 are sensible for the shorts look). */
  maxWords?: number;
  /** Most characters in a group, spaces included. Default 22. */
  maxChars?: number;
  /** A gap between two words longer than this starts a new group, ms. Default 600. */
  maxGapMs?: number;
  /** No group ends after this (the narration's length), ms. */
  durationMs: number;
}

/**
 * Groups words in order: a group ends after `maxWords` words, before it would pass `maxChars`,
 * after a word that ends a clause or sentence, and at a gap longer than `maxGapMs`. A group lasts
 * from its first word's start until the next group starts (or its last word ends, at a long gap),
 * so groups never overlap.
 */
export function groupWords(words: WordTiming[], options: GroupOptions): CaptionGroup[] {
  const maxWords = options.maxWords ?? 4;
  const maxChars = options.maxChars ?? 22;
  const maxGapMs = options.maxGapMs ?? 600;
  const groups: WordTiming[][] = [];
  let current: WordTiming[] = [];
  words.forEach((word, i) => {
    const length = current.reduce((n, w) => n + Array.from(w.text).length + 1, 0) + Array.from(word.text).length;
    if (current.length && (current.length >= maxWords || length > maxChars)) {
      groups.push(current);
      current = [];
    }
    current.push(word);
    const next = words[i + 1];
    if (/[.!?…,;:\u2014\u2013]["'”’»)\]]*$/u.test(word.text) || !next || next.startMs - word.endMs > maxGapMs) {
      groups.push(current);
      current = [];
    }
  });
  return groups
    .map((group, i) => {
      const next = groups[i + 1]?.[0];
      const last = group.at(-1)!;
      const endMs = next && next.startMs - last.endMs <= maxGapMs ? next.startMs : last.endMs;
      return { startMs: group[0]!.startMs, endMs: Math.min(options.durationMs, endMs), words: group };
    })
    .filter((g) => g.endMs > g.startMs);
}

/**
 * Word-level WebVTT: one cue per group, every word after the first preceded by its start as an
 * inline timestamp (`<00:00:01.250>`), so players that support it highlight the spoken word and
 * others show the phrase. `&`, `<` and `>` escaped.
 */
export function toWordVtt(groups: CaptionGroup[], language?: string): string {
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const header = language ? `WEBVTT\nLanguage: ${language}\n` : 'WEBVTT\n';
  const body = groups
    .map((g) => {
      const start = Math.round(g.startMs);
      const text = g.words
        .map((w, i) => {
          const at = Math.round(w.startMs);
          return i === 0 || at <= start || at >= Math.round(g.endMs) ? escape(w.text) : `<${formatTimestamp(at, '.')}>${escape(w.text)}`;
        })
        .join(' ');
      return `${formatTimestamp(start, '.')} --> ${formatTimestamp(Math.round(g.endMs), '.')}\n${text}\n`;
    })
    .join('\n');
  return `${header}\n${body}`;
}
