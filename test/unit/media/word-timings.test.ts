import { describe, expect, it } from 'vitest';
import { groupWords, toWordVtt } from '../../../src/media/captions.js';
import { parseSilences } from '../../../src/media/ffmpeg-args.js';
import { buildTimeline } from '../../../src/media/timeline.js';
import { acceptProviderWords, countSyllables, estimateWordTimings } from '../../../src/media/word-timings.js';

describe('word timings', () => {
  it('counts syllables by vowel groups, diacritics ignored', () => {
    expect(countSyllables('ngày')).toBe(1);
    expect(countSyllables('khuya')).toBe(1);
    expect(countSyllables('beautiful')).toBe(3);
    expect(countSyllables('—')).toBe(0);
  });

  it('spreads words over the speech between leading and trailing silence, longer words longer', () => {
    const words = estimateWordTimings('a extraordinary word.', {
      language: 'en',
      durationMs: 2000,
      silences: [
        { startMs: 0, endMs: 100 },
        { startMs: 1800, endMs: 2000 },
      ],
    });
    expect(words.map((w) => w.text)).toEqual(['a', 'extraordinary', 'word.']);
    expect(words[0]!.startMs).toBe(100);
    expect(words[2]!.endMs).toBe(1800);
    expect(words[1]!.endMs - words[1]!.startMs).toBeGreaterThan(3 * (words[0]!.endMs - words[0]!.startMs));
  });

  it('pins a punctuation pause to the silence measured near it', () => {
    const words = estimateWordTimings('Một hôm nọ, ông Trời cho tập hợp.', {
      language: 'vi',
      durationMs: 3000,
      silences: [{ startMs: 900, endMs: 1200 }],
    });
    expect(words[2]).toMatchObject({ text: 'nọ,', endMs: 900 });
    expect(words[3]).toMatchObject({ text: 'ông', startMs: 1200 });
  });

  it('takes provider timings, ordered and inside the clip, or none when unusable', () => {
    expect(acceptProviderWords([{ text: ' ', startMs: 0, endMs: 5 }], 100)).toBeUndefined();
    expect(
      acceptProviderWords(
        [
          { text: 'a', startMs: 0, endMs: 60 },
          { text: 'b', startMs: 50, endMs: 500 },
        ],
        100,
      ),
    ).toEqual([
      { text: 'a', startMs: 0, endMs: 60 },
      { text: 'b', startMs: 60, endMs: 100 },
    ]);
  });

  it('reads silencedetect output, an open silence ending at the clip end', () => {
    const log = '[silencedetect @ 0x1] silence_start: 0.5\n[silencedetect @ 0x1] silence_end: 0.75 | silence_duration: 0.25\n[silencedetect @ 0x1] silence_start: 1.9\n';
    expect(parseSilences(log, 2000)).toEqual([
      { startMs: 500, endMs: 750 },
      { startMs: 1900, endMs: 2000 },
    ]);
  });

  it('moves clip words onto the narration by the clip start', () => {
    const timeline = buildTimeline({
      content: 'One two. Three four.',
      language: 'en',
      pauseMs: 500,
      clips: [
        { text: 'One two.', durationMs: 1000, words: [{ text: 'One', startMs: 0, endMs: 400 }, { text: 'two.', startMs: 500, endMs: 900 }] },
        { text: 'Three four.', durationMs: 1000, words: [{ text: 'Three', startMs: 10, endMs: 400 }] },
      ],
      images: [{ index: 0, text: 'One two. Three four.' }],
    });
    expect(timeline.words.map((w) => w.startMs)).toEqual([0, 500, 1510]);
  });
});

describe('word captions', () => {
  const words = ['Once', 'upon', 'a', 'time,', 'there', 'lived', 'a', 'very', 'old', 'king.'].map((text, i) => ({
    text,
    startMs: i * 300,
    endMs: i * 300 + 250,
  }));

  it('groups one to four words, ending at punctuation, never overlapping', () => {
    const groups = groupWords(words, { durationMs: 5000 });
    expect(groups.map((g) => g.words.map((w) => w.text).join(' '))).toEqual(['Once upon a time,', 'there lived a very', 'old king.']);
    for (const [i, g] of groups.entries()) {
      expect(g.words.length).toBeLessThanOrEqual(4);
      if (i > 0) expect(g.startMs).toBeGreaterThanOrEqual(groups[i - 1]!.endMs);
    }
  });

  it('writes a word-level WebVTT with inline word timestamps', () => {
    const vtt = toWordVtt(groupWords(words, { durationMs: 5000 }), 'en');
    expect(vtt).toContain('00:00:00.000 --> 00:00:01.200\nOnce <00:00:00.300>upon <00:00:00.600>a <00:00:00.900>time,\n');
  });
});
