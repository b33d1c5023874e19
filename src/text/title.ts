import { countWords } from './words.js';

/** A title line is at most this long: longer first lines are the story's opening. */
const MAX_TITLE_CHARS = 100;
const MAX_TITLE_WORDS = 15;
/** Up to this many words, a title may end in punctuation ("Help!", "Run, Boy, Run!"). */
const SHORT_TITLE_WORDS = 4;
const FALLBACK_TITLE = 'Untitled story';

/**
 * Language tags accepted at the start of a file name (`vi_su_tich_ho_ba_be.txt`): the languages
 * Storyforge detects. Other two-letter starts ("my_story") are kept as words.
 */
const FILE_NAME_LANGUAGE_TAGS = new Set([
  'vi', 'en', 'fr', 'es', 'de', 'it', 'pt', 'nl', 'ru', 'uk', 'pl', 'tr', 'id', 'ja', 'zh', 'ko', 'th', 'ar', 'hi',
]);

/** English words kept lower case inside a title made from ALL CAPS (never first or last). */
const MINOR_WORDS = new Set([
  'a', 'an', 'and', 'as', 'at', 'but', 'by', 'for', 'from', 'in', 'into', 'nor', 'of', 'on', 'or', 'the', 'to', 'with',
]);

/**
 * Separates a story's title from its text.
 *
 * The first non-empty line is the title when it is followed by a blank line, has at most 100
 * characters and 15 words, and does not end in . , ; : ! ? (closing quotes aside) unless it has
 * at most 4 words, and is not a dialogue line. The body is then everything after that blank line.
 * Otherwise the title comes from the file name (see {@link titleFromFileName}) and the body is the
 * whole text. A title in ALL CAPS is put in title case ("THE LITTLE MATCH GIRL" → "The Little Match
 * Girl", English minor words such as "and" kept lower case); mixed case is kept as written.
 *
 * @param text normalised upload text (LF line ends)
 * @param fileName original file name, used when the text has no title line
 * @returns the title (one line, never empty) and the body (without blank lines at either end)
 */
export function splitTitle(text: string, fileName?: string): { title: string; body: string } {
  const lines = text.split('\n');
  const first = lines.findIndex((line) => line.trim() !== '');
  if (first >= 0 && first + 1 < lines.length && lines[first + 1].trim() === '' && isTitleLine(lines[first])) {
    return {
      title: toDisplayCase(lines[first].trim().replace(/\s+/g, ' ')),
      body: trimBlankLines(lines.slice(first + 2).join('\n')),
    };
  }
  return { title: titleFromFileName(fileName), body: trimBlankLines(text) };
}

/**
 * A title made from a file name: folders and extension removed, `_` and `-` become spaces, a
 * leading language tag (`vi_`, `en-` …) removed, first letter capitalised. Falls back to
 * "Untitled story" when nothing is left.
 */
export function titleFromFileName(fileName?: string): string {
  if (!fileName) return FALLBACK_TITLE;
  let name = fileName.normalize('NFC').split(/[\\/]/).pop() ?? '';
  name = name.replace(/\.[^.\s]{1,8}$/, '');
  const tag = /^([a-z]{2})[_-](?=.)/i.exec(name);
  if (tag && FILE_NAME_LANGUAGE_TAGS.has(tag[1].toLowerCase())) name = name.slice(tag[0].length);
  name = name.replace(/[_-]+/g, ' ').replace(/\s+/g, ' ').trim();
  if (!/[\p{L}\p{N}]/u.test(name)) return FALLBACK_TITLE;
  return name.charAt(0).toLocaleUpperCase() + name.slice(1);
}

function isTitleLine(line: string): boolean {
  const title = line.trim();
  if (title.length > MAX_TITLE_CHARS || /^[-\u2013\u2014\u2015]\s/u.test(title)) return false;
  const words = countWords(title);
  if (words === 0 || words > MAX_TITLE_WORDS) return false;
  const endsLikeSentence = /[.,;:!?]$/u.test(title.replace(/[\u201D\u2019\u00BB"')\]]+$/u, ''));
  return !endsLikeSentence || words <= SHORT_TITLE_WORDS;
}

function toDisplayCase(title: string): string {
  const isAllCaps = title === title.toLocaleUpperCase() && title !== title.toLocaleLowerCase();
  if (!isAllCaps) return title;
  const words = title.split(' ');
  return words
    .map((word, index) => {
      if (/^[IVXLCDM]{2,}\W*$/.test(word)) return word; // Roman numerals: "PART II"
      const lower = word.toLocaleLowerCase();
      if (index > 0 && index < words.length - 1 && MINOR_WORDS.has(lower)) return lower;
      // Capitalise at the start of the word and after a hyphen ("Frog-Prince"), not after an apostrophe.
      return lower.replace(/(^|[-\u2010])([^\p{L}]*)(\p{L})/gu, (_, before: string, marks: string, letter: string) =>
        `${before}${marks}${letter.toLocaleUpperCase()}`,
      );
    })
    .join(' ');
}

function trimBlankLines(text: string): string {
  return text.replace(/^(?:[^\S\n]*\n)+/, '').trimEnd();
}
