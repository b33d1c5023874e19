/**
 * Word-timed captions: words grouped into short phrases, a word-level WebVTT (each phrase a cue,
 * each later word behind an inline timestamp, as karaoke players show it), and the ASS script of
 * the `shorts` preset (one to four words at a time, the spoken word highlighted with karaoke
 * tags). Pure functions; times in ms on the narration.
 */

import { formatTimestamp, type SubtitleCue } from './subtitles.js';
import type { WordTiming } from '../shared/word-timing.js';
import { type CaptionOptions, HEX_COLOUR, type CaptionPosition } from '../shared/caption-options.js';

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


/** {@link CaptionOptions} with every field filled. */
export type CaptionStyle = Required<CaptionOptions>;

/** The preset's defaults under the given fields. */
export function resolveCaptionStyle(options: CaptionOptions = {}): CaptionStyle {
  const preset = options.preset ?? 'classic';
  const shorts = preset === 'shorts';
  return {
    preset,
    size: options.size ?? (shorts ? 0.075 : 0.045),
    colour: options.colour ?? '#FFFFFF',
    highlightColour: options.highlightColour ?? '#FFD700',
    outlineColour: options.outlineColour ?? '#000000',
    outline: options.outline ?? (shorts ? 0.1 : 0.0625),
    // Not `middle` for shorts: card images carry their own text in the middle of the frame.
    position: options.position ?? 'bottom',
  };
}

/** `#RRGGBB` → ASS `&HAABBGGRR` (alpha 00 = opaque). */
export function assColour(hex: string, alpha = 0): string {
  if (!HEX_COLOUR.test(hex)) throw new RangeError(`colour ${JSON.stringify(hex)} is not #RRGGBB`);
  const [r, g, b] = [1, 3, 5].map((i) => hex.slice(i, i + 2).toUpperCase());
  return `&H${alpha.toString(16).padStart(2, '0').toUpperCase()}${b}${g}${r}`;
}

export interface AssFrame {
  /** Video size: the script's PlayResX / PlayResY, so sizes are pixels. */
  width: number;
  height: number;
  /** Font family name (as the font file names itself). */
  fontName: string;
}

/** ASS time `H:MM:SS.cc`, rounded to the centisecond (`up`: to the next one, so an event never starts before `ms`). */
export function assTime(ms: number, up = false): string {
  const cs = Math.max(0, up ? Math.ceil(ms / 10 - 1e-9) : Math.round(ms / 10));
  const p = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(cs / 360_000)}:${p(Math.floor(cs / 6000) % 60)}:${p(Math.floor(cs / 100) % 60)}.${p(cs % 100)}`;
}

/** Text safe inside an ASS event: braces and backslashes never read as tags. */
export function assText(text: string): string {
  return text.replace(/\\/g, '\u2216').replace(/\{/g, '(').replace(/\}/g, ')');
}

/**
 * Distance of captions from the frame's edge, as a share of its height: none in the middle; 6 %
 * at the top and at the bottom of a landscape frame; 20 % at the bottom of a portrait frame, above
 * the strip that short-video apps cover with their buttons and text, and below a 16:9 picture
 * fitted in the middle third (whose card text stays clear).
 */
export function captionMargin(position: CaptionPosition, width: number, height: number): number {
  if (position === 'middle') return 0;
  return position === 'bottom' && height > width ? 0.2 : 0.06;
}

/** The `[Script Info]` and `[V4+ Styles]` of a caption script, one style `Default`. */
export function assHeader(frame: AssFrame, style: CaptionStyle): string[] {
  const { width, height } = frame;
  // Classic lines hold 42 characters and shorts groups 22 (about 0.55 em each): the width caps the size.
  const fontSize = Math.max(8, Math.round(Math.min(height * style.size, (width * 0.9) / (style.preset === 'shorts' ? 11 : 23))));
  const outline = Math.max(0, Math.round(fontSize * style.outline));
  const alignment = { bottom: 2, middle: 5, top: 8 }[style.position];
  const marginV = Math.round(height * captionMargin(style.position, width, height));
  const marginH = Math.round(width * 0.05);
  const bold = style.preset === 'shorts' ? -1 : 0;
  const fontName = frame.fontName.replace(/[,\r\n]/g, ' ');
  return [
    '[Script Info]',
    'ScriptType: v4.00+',
    `PlayResX: ${width}`,
    `PlayResY: ${height}`,
    'WrapStyle: 0',
    'ScaledBorderAndShadow: yes',
    '',
    '[V4+ Styles]',
    'Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding',
    `Style: Default,${fontName},${fontSize},${assColour(style.colour)},${assColour(style.highlightColour)},${assColour(style.outlineColour)},&H80000000,${bold},0,0,0,100,100,0,0,1,${outline},${Math.max(0, Math.round(outline / 2))},${alignment},${marginH},${marginH},${marginV},1`,
    '',
    '[Events]',
    'Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text',
  ];
}

/**
 * The `shorts` ASS script: each group is shown whole, one event per word, karaoke style: from the
 * word's start (the group's start for its first word) until the next word starts, that word is in
 * the highlight colour and the others in the text colour. Times are centiseconds (ASS), rounded
 * up, so a highlight starts within 10 ms after its word timing, never before it.
 */
export function toShortsAss(groups: CaptionGroup[], frame: AssFrame, style: CaptionStyle): string {
  const highlight = `{\\c${assColour(style.highlightColour)}}`;
  const plain = `{\\c${assColour(style.colour)}}`;
  const events: string[] = [];
  for (const group of groups) {
    group.words.forEach((word, i) => {
      const start = i === 0 ? group.startMs : word.startMs;
      const end = i + 1 < group.words.length ? group.words[i + 1]!.startMs : group.endMs;
      // Rounded up: a word never lights before it is spoken (rounding down could land on the frame before).
      if (assTime(end, true) === assTime(start, true)) return;
      const text = group.words.map((w, j) => (j === i ? `${highlight}${assText(w.text)}${plain}` : assText(w.text))).join(' ');
      events.push(`Dialogue: 0,${assTime(start, true)},${assTime(end, true)},Default,,0,0,0,,${text}`);
    });
  }
  return [...assHeader(frame, style), ...events, ''].join('\n');
}

/**
 * The `classic` ASS script: one event per sentence cue (one or two lines), in the text colour.
 * Braces and backslashes in the text are replaced so that they are never read as tags.
 */
export function toClassicAss(cues: SubtitleCue[], frame: AssFrame, style: CaptionStyle): string {
  const events = cues.map((cue) => `Dialogue: 0,${assTime(cue.startMs)},${assTime(cue.endMs)},Default,,0,0,0,,${cue.lines.map(assText).join('\\N')}`);
  return [...assHeader(frame, style), ...events, ''].join('\n');
}

/** What to burn in: the sentence cues (classic) and the word groups (shorts). */
export interface BurnCaptions {
  style: CaptionStyle;
  cues: SubtitleCue[];
  groups: CaptionGroup[];
}

/** The ASS script of the style's preset: shorts when word groups exist, else classic sentence cues. */
export function captionScript(captions: BurnCaptions, frame: AssFrame): string {
  return captions.style.preset === 'shorts' && captions.groups.length
    ? toShortsAss(captions.groups, frame, captions.style)
    : toClassicAss(captions.cues, frame, captions.style);
}
