import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DETECTABLE_LANGUAGES } from '../../../src/text/language.js';
import { countWordsFast, FAST_RANGES } from '../../../src/text/word-count-fast.js';
import { countWords } from '../../../src/text/words.js';

/** The count `Intl.Segmenter` gives: word-like segments. */
function icuCount(text: string, language?: string): number {
  let n = 0;
  for (const part of new Intl.Segmenter(language, { granularity: 'word' }).segment(text)) if (part.isWordLike) n++;
  return n;
}

/** A small seeded generator (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Letters, digits, the joining punctuation of the word rules, marks, format characters, spaces. */
const TRICKY = [..."aZé1_:.,;'’‘·\u0387\u2027\u2024\u2044\u037e\u202f\u203f\u2060\u00ad\u0301\u0345\u200b\u200c\u200d \n\r\t-–—…“”«»ªºµ¸ßđĐơưƯΑαЖжά\u00a0\u2028\u2029\u0085©‼$%&()@#"];

describe('countWordsFast', () => {
  it('counts as Intl.Segmenter does on random text of letters, digits, joiners, marks and spaces', () => {
    const next = random(13);
    const all = FAST_RANGES.flatMap(([first, last]) => Array.from({ length: last - first + 1 }, (_, i) => String.fromCodePoint(first + i)));
    let compared = 0;
    for (let k = 0; k < 100_000; k++) {
      let text = '';
      const length = 1 + Math.floor(next() * 8);
      for (let j = 0; j < length; j++) text += next() < 0.7 ? TRICKY[Math.floor(next() * TRICKY.length)] : all[Math.floor(next() * all.length)];
      const fast = countWordsFast(text);
      if (fast === undefined) continue;
      compared++;
      expect({ text, count: fast }).toEqual({ text, count: icuCount(text) });
    }
    expect(compared).toBeGreaterThan(90_000);
  });

  it('counts as Intl.Segmenter does around every character it reads', () => {
    for (const [first, last] of FAST_RANGES) {
      for (let cp = first; cp <= last; cp++) {
        const c = String.fromCodePoint(cp);
        for (const text of [c, c + c, `a${c}a`, `1${c}1`, `_${c}`, `${c}_`, ` ${c}a`, `\n${c}a`, `a${c}${c}a`, `${c}\u0301`]) {
          const fast = countWordsFast(text);
          if (fast !== undefined) expect({ text, count: fast }).toEqual({ text, count: icuCount(text) });
        }
      }
    }
  });

  it('gives the same count for every language Storyforge detects', () => {
    const next = random(29);
    for (const language of DETECTABLE_LANGUAGES) {
      for (let k = 0; k < 3_000; k++) {
        let text = '';
        for (let j = 0; j < 6; j++) text += TRICKY[Math.floor(next() * TRICKY.length)];
        const fast = countWordsFast(text);
        if (fast !== undefined) expect({ language, text, count: fast }).toEqual({ language, text, count: icuCount(text, language) });
      }
    }
  });

  it('leaves scripts written without spaces, emoji and ICU quirks to Intl.Segmenter', () => {
    expect(countWordsFast('กาลครั้งหนึ่ง')).toBeUndefined();
    expect(countWordsFast('赤ずきん')).toBeUndefined();
    expect(countWordsFast('a 😀 b')).toBeUndefined();
    expect(countWordsFast('a_\u0301')).toBeUndefined();
    expect(countWordsFast('Sự tích Hồ Ba Bể')).toBe(5);
  });

  it('gives countWords the same count as Intl.Segmenter on the sample stories', () => {
    const root = path.join(import.meta.dirname, '../../fixtures/samples/stories');
    for (const language of fs.readdirSync(root)) {
      for (const name of fs.readdirSync(path.join(root, language)).filter((n) => n.endsWith('.txt'))) {
        const text = fs.readFileSync(path.join(root, language, name), 'utf8');
        expect({ name, count: countWords(text, language) }).toEqual({ name, count: icuCount(text, language) });
      }
    }
  });
});
