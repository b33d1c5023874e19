/** The language codes Storyforge accepts, for validation everywhere (detection lives in src/text/language.ts). */

const languageNames = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' });

/**
 * The one list of language codes a story, `DEFAULT_LANGUAGE` and `--language` accept: every
 * two-letter ISO 639-1 code that the runtime's CLDR data (Intl.DisplayNames) names, in
 * alphabetical order (about 190 with Node's full ICU).
 */
export const LANGUAGE_CODES: readonly string[] = (() => {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const codes = [...letters].flatMap((first) => [...letters].map((second) => first + second));
  return codes.filter((code) => languageNames.of(code) !== undefined);
})();

const KNOWN = new Set(LANGUAGE_CODES);

/** True for a code in {@link LANGUAGE_CODES} (`vi`, `en`), false for any other (`xx`, `EN`, `fil`). */
export function isKnownLanguage(code: string): boolean {
  return KNOWN.has(code);
}

/** What to say when a language code is not in {@link LANGUAGE_CODES}: the rule and the accepted codes. */
export const LANGUAGE_RULE = `must be an ISO 639-1 language code such as vi, en or fr; accepted: ${LANGUAGE_CODES.join(', ')}`;
