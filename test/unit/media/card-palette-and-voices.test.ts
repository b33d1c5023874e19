import { describe, expect, it } from 'vitest';

import { DEFAULT_CARD_PALETTE, paletteForStyle } from '../../../src/providers/image/card.js';
import { espeakVoiceForLanguage } from '../../../src/providers/speech/espeak-ng.js';

describe('paletteForStyle', () => {
  it('uses the default palette without a style', () => {
    expect(paletteForStyle(undefined)).toEqual(DEFAULT_CARD_PALETTE);
    expect(paletteForStyle({})).toEqual(DEFAULT_CARD_PALETTE);
    expect(paletteForStyle({ genre: '  ', tone: '' })).toEqual(DEFAULT_CARD_PALETTE);
  });

  it('picks by genre words, in English and Vietnamese, genre before tone', () => {
    expect(paletteForStyle({ genre: 'Fairy tale' }).name).toBe('fairy-tale');
    expect(paletteForStyle({ genre: 'truyện cổ tích' }).name).toBe('fairy-tale');
    expect(paletteForStyle({ genre: 'Horror', tone: 'funny' }).name).toBe('horror');
    expect(paletteForStyle({ genre: 'story', tone: 'hài hước' }).name).toBe('comedy');
    expect(paletteForStyle({ genre: 'truyền thuyết' }).name).toBe('legend');
  });

  it('is deterministic for styles it does not know', () => {
    const a = paletteForStyle({ genre: 'zzz-unknown', tone: 'qqq' });
    expect(paletteForStyle({ genre: 'zzz-unknown', tone: 'qqq' })).toEqual(a);
    expect(a.from).toMatch(/^0x[0-9a-f]{6}$/);
  });

  it('matches short words only as whole words', () => {
    // "ma" (ghost) must not match inside "drama".
    expect(paletteForStyle({ genre: 'drama' }).name).not.toBe('horror');
  });
});

describe('espeakVoiceForLanguage', () => {
  it('maps ISO 639-1 codes and regional tags', () => {
    expect(espeakVoiceForLanguage('vi')).toBe('vi');
    expect(espeakVoiceForLanguage('en')).toBe('en-us');
    expect(espeakVoiceForLanguage('fr')).toBe('fr-fr');
    expect(espeakVoiceForLanguage('EN-GB')).toBe('en-gb');
    expect(espeakVoiceForLanguage('pt_BR')).toBe('pt-br');
    expect(espeakVoiceForLanguage('vi-VN')).toBe('vi');
    expect(espeakVoiceForLanguage('zh')).toBe('cmn');
    expect(espeakVoiceForLanguage('yue')).toBe('yue');
  });

  it('returns undefined for a language without a voice', () => {
    expect(espeakVoiceForLanguage('xx')).toBeUndefined();
    expect(espeakVoiceForLanguage('')).toBeUndefined();
  });
});
