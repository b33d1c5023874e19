import { normalizeEnglishForSpeech } from './speech/en.js';
import { normalizeVietnameseForSpeech } from './speech/vi.js';

/**
 * Markdown and decoration removed, line structure kept: headings, rules, bullets, bold, italics,
 * code marks and link targets go; the words stay.
 */
export function stripMarkdown(text: string): string {
  return text
    .replace(/^\s{0,3}#{1,6}\s+/gm, '') // headings
    .replace(/^\s*(?:[-*_]\s*){3,}$/gm, ' ') // horizontal rules
    .replace(/^\s*[*+•]\s+/gm, '') // bullet marks (a leading "- " is dialogue in many stories and stays)
    .replace(/(\*\*|__)(.+?)\1/g, '$2') // bold
    .replace(/(?<![\p{L}\p{N}])[*_]([^*_\n]+)[*_](?![\p{L}\p{N}])/gu, '$1') // italics
    .replace(/`+([^`]*)`+/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1'); // links keep their text
}

/** Per-language rewriting of numbers, dates, units and abbreviations into words (ISO 639-1 code → function). */
const SPEECH_NORMALIZERS: Readonly<Record<string, (text: string) => string>> = {
  vi: normalizeVietnameseForSpeech,
  en: normalizeEnglishForSpeech,
};

/** The primary language of a tag: `en-GB` → `en`. */
function primaryLanguage(language: string): string {
  return language.trim().toLowerCase().split(/[-_]/)[0] ?? '';
}

/**
 * Text made for a speech engine: markdown and decoration removed, then (when the language has a
 * normaliser: vi, en) numbers, dates, times, units and common abbreviations written out as words
 * the way a reader would say them, whitespace collapsed. The written form (story.md, subtitles)
 * keeps the original; only the spoken copy changes.
 */
export function toSpokenText(text: string, language?: string): string {
  let spoken = stripMarkdown(text);
  const normalize = language ? SPEECH_NORMALIZERS[primaryLanguage(language)] : undefined;
  // Normalise line by line first, so that patterns never join words across a paragraph break.
  if (normalize) spoken = spoken.split('\n').map(normalize).join('\n');
  return spoken.replace(/\s+/g, ' ').trim();
}

/** Text shown to a reader (subtitles): markdown removed, whitespace collapsed, everything else as written. */
export function toDisplayText(text: string): string {
  return stripMarkdown(text).replace(/\s+/g, ' ').trim();
}

/** True when the text has something to say: at least one letter or digit. */
export function isSpeakable(text: string): boolean {
  return /[\p{L}\p{N}]/u.test(text);
}

/**
 * How long text takes to say, in arbitrary units, for sharing a clip's measured duration among
 * its sentences: letters and digits of the spoken form, plus a little for each pause a speech
 * engine makes at punctuation (clause marks, sentence ends, line breaks).
 */
export function speechWeight(spokenText: string): number {
  const letters = spokenText.match(/[\p{L}\p{N}]/gu)?.length ?? 0;
  if (letters === 0) return 0;
  const clausePauses = spokenText.match(/[,;:\u2014\u2013\u2026]/gu)?.length ?? 0;
  const sentencePauses = spokenText.match(/[.!?]+(?=\s|$)/gu)?.length ?? 0;
  return letters + 3 * clausePauses + 5 * sentencePauses;
}
