import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { en, type MessageKey } from './en';
import { vi } from './vi';

export type Lang = 'en' | 'vi';
export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

const dictionaries: Record<Lang, Record<MessageKey, string>> = { en, vi };
const STORAGE_KEY = 'storyforge.lang';

/** The language chosen before (localStorage), else the browser's when it is Vietnamese, else English. */
export function initialLang(): Lang {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === 'en' || saved === 'vi') return saved;
  return navigator.language.toLowerCase().startsWith('vi') ? 'vi' : 'en';
}

/** Remembers the choice for the next visit. */
export function saveLang(lang: Lang): void {
  localStorage.setItem(STORAGE_KEY, lang);
}

/** A translate function for one language: the key's words with `{name}` filled in. */
export function translator(lang: Lang): Translate {
  const dict = dictionaries[lang];
  return (key, values) => {
    const text = dict[key] ?? en[key] ?? key;
    return values ? text.replace(/\{(\w+)\}/g, (m, name: string) => (name in values ? String(values[name]) : m)) : text;
  };
}

export const I18n = createContext<{ lang: Lang; t: Translate; setLang: (lang: Lang) => void }>({
  lang: 'en',
  t: translator('en'),
  setLang: () => undefined,
});

/** The page's current language and its translate function. */
export const useI18n = () => useContext(I18n);
