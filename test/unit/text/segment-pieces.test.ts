import { describe, expect, it } from 'vitest';
import { chunkText, splitSentences } from '../../../src/text/chunking.js';
import { countWords, segmentPieces } from '../../../src/text/words.js';
import { sampleText } from '../../support/samples.js';

describe('long text is segmented in pieces', () => {
  const story = sampleText('stories/en/en_grimm_hansel_and_gretel.txt');

  it('covers the text exactly, without cutting a word, and keeps word counts', () => {
    const long = story.replace(/\n/g, ' ').repeat(8); // one 190 k character line
    const pieces = [...segmentPieces(long)];
    expect(pieces.length).toBeGreaterThan(10);
    expect(pieces.map((p) => long.slice(p.start, p.end)).join('')).toBe(long);
    for (const piece of pieces.slice(0, -1)) expect(long[piece.end - 1]).toMatch(/\s/);
    expect(countWords(long, 'en')).toBe(countWords(story, 'en') * 8);
  });

  it('chunks a story told twice into twice the chunks (give or take the join)', () => {
    const twice = chunkText(`${story}\n\n${story}`, { maxWords: 60, maxChars: 4096, language: 'en' });
    const once = chunkText(story, { maxWords: 60, maxChars: 4096, language: 'en' });
    expect(twice.length).toBeGreaterThanOrEqual(2 * once.length - 1);
    expect(twice.length).toBeLessThanOrEqual(2 * once.length);
    expect(twice.slice(0, once.length - 1)).toEqual(once.slice(0, -1));
  });
});

describe('sentences in dialogue', () => {
  it('keep "Oh!" said she as one sentence', () => {
    const text = "'Oh!' said the little girl. 'What a fine warm stove!' And then she was gone. Was she?";
    expect(splitSentences(text, 'en').map((s) => text.slice(s.start, s.end))).toEqual([
      "'Oh!' said the little girl.",
      "'What a fine warm stove!'",
      'And then she was gone.',
      'Was she?',
    ]);
  });

  it('keep « Tire la chevillette ! » dit le Loup together in French', () => {
    const text = '« Tire la chevillette, la bobinette cherra ! » dit le Loup. Elle entra.';
    expect(splitSentences(text, 'fr').map((s) => text.slice(s.start, s.end))).toEqual([
      '« Tire la chevillette, la bobinette cherra ! » dit le Loup.',
      'Elle entra.',
    ]);
  });
});
