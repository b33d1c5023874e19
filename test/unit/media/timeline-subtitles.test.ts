import { describe, expect, it } from 'vitest';
import { resolveCaptionStyle, toClassicAss } from '../../../src/media/captions.js';
import { buildCues, formatTimestamp, splitForCues, toSrt, toVtt, wrapLines } from '../../../src/media/subtitles.js';
import { buildTimeline, locateChunks } from '../../../src/media/timeline.js';
import { chunkText } from '../../../src/text/chunking.js';

const STORY = [
  'Ngày xưa có một bà cụ ăn xin. Bà đi khắp nơi xin ăn.',
  '',
  'Năm 1945, làng có 1.000.000 người. Không ai cho bà ăn.',
  '',
  'Chỉ có hai mẹ con nghèo thương bà. Họ cho bà ngủ nhờ.',
].join('\n');

describe('narration timeline', () => {
  const audio = chunkText(STORY, { maxWords: 14, maxChars: 5000, language: 'vi' });
  const images = chunkText(STORY, { maxWords: 25, maxChars: 5000, language: 'vi' });
  const durations = audio.map((_, i) => 2000 + i * 137);
  const timeline = buildTimeline({
    content: STORY,
    language: 'vi',
    pauseMs: 400,
    clips: audio.map((text, i) => ({ text, durationMs: durations[i]! })),
    images: images.map((text, index) => ({ index, text })),
  });

  it('places each clip at the sum of the clips before it plus one pause per join', () => {
    expect(audio.length).toBeGreaterThan(2);
    let expected = 0;
    timeline.clips.forEach((clip, i) => {
      expect(clip.startMs).toBe(expected);
      expect(clip.endMs).toBe(expected + durations[i]!);
      expected += durations[i]! + 400;
    });
    expect(timeline.durationMs).toBe(durations.reduce((a, b) => a + b, 0) + 400 * (audio.length - 1));
  });

  it('shares each clip among its sentences by spoken length, in order and without gaps', () => {
    for (const clip of timeline.clips) {
      const sentences = timeline.sentences.filter((s) => s.clip === clip.index);
      expect(sentences[0]!.startMs).toBe(clip.startMs);
      expect(sentences.at(-1)!.endMs).toBeCloseTo(clip.endMs, 6);
      for (let i = 1; i < sentences.length; i++) expect(sentences[i]!.startMs).toBeCloseTo(sentences[i - 1]!.endMs, 6);
    }
    // "Năm 1945, làng có 1.000.000 người." is spoken as many more syllables than it has characters.
    const numbers = timeline.sentences.find((s) => s.text.startsWith('Năm 1945'))!;
    const plain = timeline.sentences.find((s) => s.text === 'Không ai cho bà ăn.')!;
    expect(numbers.clip).toBe(plain.clip);
    const perChar = (s: typeof numbers) => (s.endMs - s.startMs) / s.text.length;
    expect(perChar(numbers)).toBeGreaterThan(perChar(plain) * 1.5);
    // Written form kept.
    expect(numbers.text).toBe('Năm 1945, làng có 1.000.000 người.');
  });

  it('starts each image when its first sentence is spoken, in the pause when that is a clip start', () => {
    expect(images.length).toBeGreaterThan(1);
    expect(timeline.images[0]!.startMs).toBe(0);
    expect(timeline.images.at(-1)!.endMs).toBe(timeline.durationMs);
    for (let k = 1; k < images.length; k++) {
      const image = timeline.images[k]!;
      expect(image.startMs).toBe(timeline.images[k - 1]!.endMs);
      const sentence = timeline.sentences.find((s) => s.charStart === image.charStart)!;
      const clip = timeline.clips[sentence.clip]!;
      if (clip.charStart === image.charStart && sentence.clip > 0) {
        expect(image.startMs).toBe(clip.startMs - 200);
      } else {
        expect(image.startMs).toBe(sentence.startMs);
      }
    }
  });

  it('finds chunks by their place in the text', () => {
    expect(locateChunks('a b a b', ['a', 'b', 'a', 'x'])).toEqual([0, 2, 4, -1]);
  });

  it('falls back to text length when the chunks are not in the text', () => {
    const fallback = buildTimeline({
      content: 'something else',
      language: 'en',
      pauseMs: 0,
      clips: [{ text: 'One two.', durationMs: 1000 }],
      images: [
        { index: 0, text: 'aaaa' },
        { index: 1, text: 'aaaaaaaaaaaa' },
      ],
    });
    expect(fallback.images.map((i) => [i.startMs, i.endMs])).toEqual([
      [0, 250],
      [250, 1000],
    ]);
  });
});

describe('subtitle cues', () => {
  it('wraps into at most two balanced lines of 42 characters', () => {
    expect(wrapLines('short line', 42, 2)).toEqual(['short line']);
    const two = wrapLines('Chủ tịch Hồ Chí Minh đọc bản Tuyên ngôn độc lập tại Ba Đình.', 42, 2)!;
    expect(two).toHaveLength(2);
    expect(Math.max(...two.map((l) => Array.from(l).length))).toBeLessThanOrEqual(42);
    expect(Math.abs(two[0]!.length - two[1]!.length)).toBeLessThan(12);
    expect(wrapLines('x '.repeat(60), 42, 2)).toBeUndefined();
  });

  it('splits a long sentence at a clause mark near the middle, else at a space', () => {
    const sentence =
      'Once upon a time there lived a king who had three daughters, and the youngest was so beautiful that the sun itself was astonished whenever it shone on her face.';
    const pieces = splitForCues(sentence);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join(' ')).toBe(sentence);
    expect(pieces[0]!.endsWith('daughters,')).toBe(true);
    for (const piece of pieces) expect(wrapLines(piece, 42, 2)).toBeDefined();
  });

  it('makes ordered, non-overlapping cues inside the narration, in the written form', () => {
    const sentences = [
      { clip: 0, startMs: 0, endMs: 1500.4, charStart: 0, charEnd: 10, text: 'Ngày 2/9/1945.', weight: 10 },
      { clip: 0, startMs: 1500.4, endMs: 1500.6, charStart: 10, charEnd: 11, text: '', weight: 0 },
      {
        clip: 1,
        startMs: 1900,
        endMs: 9000,
        charStart: 12,
        charEnd: 200,
        text: 'A very long sentence that certainly does not fit on two lines of forty-two characters, so it is cut in two.',
        weight: 100,
      },
      { clip: 2, startMs: 9400, endMs: 12000, charStart: 201, charEnd: 230, text: 'Past the end.', weight: 20 },
    ];
    const cues = buildCues(sentences, { durationMs: 11000, language: 'vi' });
    expect(cues[0]).toEqual({ startMs: 0, endMs: 1500, lines: ['Ngày 2/9/1945.'] });
    expect(cues.length).toBe(4);
    for (let i = 1; i < cues.length; i++) expect(cues[i]!.startMs).toBeGreaterThanOrEqual(cues[i - 1]!.endMs);
    expect(cues.at(-1)!.endMs).toBe(11000);
    for (const cue of cues) {
      expect(cue.lines.length).toBeLessThanOrEqual(2);
      for (const line of cue.lines) expect(Array.from(line).length).toBeLessThanOrEqual(42);
    }
  });

  it('writes SRT, WebVTT and ASS', () => {
    const cues = [
      { startMs: 0, endMs: 1234, lines: ['Xin chào', 'thế giới'] },
      { startMs: 3_723_004, endMs: 3_724_000, lines: ['a < b & {tag} \\N'] },
    ];
    expect(formatTimestamp(3_723_004, ',')).toBe('01:02:03,004');
    expect(toSrt(cues)).toBe('1\n00:00:00,000 --> 00:00:01,234\nXin chào\nthế giới\n\n2\n01:02:03,004 --> 01:02:04,000\na < b & {tag} \\N\n');
    expect(toVtt(cues, 'vi')).toBe(
      'WEBVTT\nLanguage: vi\n\n00:00:00.000 --> 00:00:01.234\nXin chào\nthế giới\n\n01:02:03.004 --> 01:02:04.000\na &lt; b &amp; {tag} \\N\n',
    );
    const ass = toClassicAss(cues, { width: 1080, height: 1920, fontName: 'DejaVu Sans' }, resolveCaptionStyle());
    expect(ass).toContain('PlayResX: 1080\nPlayResY: 1920');
    expect(ass).toContain('Style: Default,DejaVu Sans,42,');
    expect(ass).toContain('Dialogue: 0,0:00:00.00,0:00:01.23,Default,,0,0,0,,Xin chào\\Nthế giới');
    // Braces and backslashes are never read as override tags.
    expect(ass).toContain(',,a < b & (tag) \u2216N');
  });
});
