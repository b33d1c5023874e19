import { franc } from 'franc';

/**
 * The languages we tell apart (franc's ISO 639-3 code → ISO 639-1 code). Restricting franc to
 * these keeps it from answering with a close relative nobody writes stories in here (e.g. Scots
 * for English, Malay for Indonesian). Add a language by adding its pair; franc's own list is in
 * `node_modules/franc/data.js` (Arabic is `arb`, Mandarin `cmn` there).
 */
const LANGUAGES: Readonly<Record<string, string>> = {
  vie: 'vi',
  eng: 'en',
  fra: 'fr',
  spa: 'es',
  deu: 'de',
  ita: 'it',
  por: 'pt',
  nld: 'nl',
  rus: 'ru',
  ukr: 'uk',
  pol: 'pl',
  tur: 'tr',
  ind: 'id',
  jpn: 'ja',
  cmn: 'zh',
  kor: 'ko',
  tha: 'th',
  arb: 'ar',
  hin: 'hi',
};

/** The ISO 639-1 codes {@link detectLanguage} can return. */
export const DETECTABLE_LANGUAGES: readonly string[] = Object.values(LANGUAGES);

/**
 * Fewer letters than this and the guess is not worth making: franc's trigram statistics need a
 * sentence or two (its own minimum, 10 characters, misreads short phrases between Latin-script
 * languages).
 */
const MIN_LETTERS = 20;

/**
 * Guesses the language of a text with franc (trigram statistics on the first 2,048 characters),
 * among {@link DETECTABLE_LANGUAGES}.
 *
 * @returns an ISO 639-1 code (`'vi'`, `'en'`, `'fr'` …), or undefined when the text has fewer
 *   than 20 letters or franc cannot decide
 */
export function detectLanguage(text: string): string | undefined {
  const letters = text.match(/\p{L}/gu)?.length ?? 0;
  if (letters < MIN_LETTERS) return undefined;
  return LANGUAGES[franc(text, { only: Object.keys(LANGUAGES), minLength: 1 })];
}
