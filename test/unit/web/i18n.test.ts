import { describe, expect, it } from 'vitest';
import { en } from '../../../web/src/i18n/en.js';
import { vi } from '../../../web/src/i18n/vi.js';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('web page dictionaries', () => {
  it('Vietnamese and English have the same keys', () => {
    expect(Object.keys(vi).sort()).toEqual(Object.keys(en).sort());
  });

  it('every text is filled in and keeps the same {placeholders}', () => {
    for (const [key, text] of Object.entries(en)) {
      const translated = vi[key as keyof typeof en];
      expect(text.trim(), key).not.toBe('');
      expect(translated.trim(), key).not.toBe('');
      expect(placeholders(translated), key).toEqual(placeholders(text));
    }
  });
});
