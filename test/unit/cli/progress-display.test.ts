import { describe, expect, it } from 'vitest';
import { ProgressDisplay, QUIET_LINE_INTERVAL_MS } from '../../../src/cli/progress-display.js';
import type { StoryProgressInput } from '../../../src/dtos/batch-progress.js';
import type { Story } from '../../../src/db/schema.js';

const story = {
  id: 's1',
  batchId: 'b',
  status: 'processing',
  storyStep: 'completed',
  imagesStep: 'running',
  audioStep: 'running',
  mergeStep: 'pending',
  videoStep: 'pending',
  failedStep: null,
} as unknown as Story;

const input = (changes: Partial<Story>, images = { done: 0, total: 4 }, audio = { done: 0, total: 4 }): StoryProgressInput => ({
  story: { ...story, ...changes },
  fileName: 'lamp.txt',
  images,
  audio,
});

/** A display writing to a pipe (not a terminal) on a clock the test moves. */
function piped() {
  const lines: string[] = [];
  let now = 1_000_000;
  const stream = { isTTY: false, write: (chunk: string) => lines.push(chunk.trimEnd()) } as unknown as NodeJS.WriteStream;
  const display = new ProgressDisplay(stream, () => now);
  return { display, lines, advance: (ms: number) => (now += ms) };
}

describe('progress written to a pipe', () => {
  it('writes a line when the step changes, with its chunk counts and the share done', () => {
    const { display, lines, advance } = piped();
    display.update([input({}, { done: 1, total: 4 }, { done: 0, total: 4 })]);
    advance(1000);
    display.update([input({}, { done: 2, total: 4 }, { done: 1, total: 4 })]);
    display.update([input({ imagesStep: 'completed', audioStep: 'completed', mergeStep: 'running' }, { done: 4, total: 4 }, { done: 4, total: 4 })]);
    display.update([input({ status: 'completed', imagesStep: 'completed', audioStep: 'completed', mergeStep: 'completed', videoStep: 'completed' })]);
    expect(lines).toEqual(['lamp.txt: images 1/4 + audio (25%)', 'lamp.txt: merge (60%)', 'lamp.txt: done']);
  });

  it('says again how long a long step has been going, so that it never looks hung', () => {
    const { display, lines, advance } = piped();
    const rendering = input({ imagesStep: 'completed', audioStep: 'completed', mergeStep: 'completed', videoStep: 'running' });
    display.update([rendering]);
    advance(QUIET_LINE_INTERVAL_MS - 1);
    display.update([rendering]);
    expect(lines).toHaveLength(1);
    advance(1);
    display.update([rendering]);
    advance(QUIET_LINE_INTERVAL_MS);
    display.update([rendering]);
    expect(lines).toEqual(['lamp.txt: video (80%)', 'lamp.txt: video (80%, 30 s on it)', 'lamp.txt: video (80%, 60 s on it)']);
  });
});
