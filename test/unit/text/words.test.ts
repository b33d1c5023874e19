import { describe, expect, it } from 'vitest';
import { countWords } from '../../../src/text/words.js';

describe('countWords', () => {
  it('counts words, not punctuation or spaces', () => {
    expect(countWords('Hello, world! — “Yes…”', 'en')).toBe(3);
    expect(countWords("The miller's daughter, 3,000 pieces.", 'en')).toBe(5);
  });

  it('counts Vietnamese syllables (written apart)', () => {
    expect(countWords('Sự tích Hồ Ba Bể', 'vi')).toBe(5);
  });

  it('counts words in scripts written without spaces', () => {
    expect(countWords('กาลครั้งหนึ่งนานมาแล้ว', 'th')).toBeGreaterThan(2);
    expect(countWords('みんなは彼女を赤ずきんと呼びました。', 'ja')).toBeGreaterThan(4);
  });

  it('is 0 for empty or punctuation-only text', () => {
    expect(countWords('')).toBe(0);
    expect(countWords(' — … !? \n')).toBe(0);
  });

  it('does not throw on a malformed language tag', () => {
    expect(countWords('two words', 'not a tag!')).toBe(2);
  });
});
