import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { measureSamples } from '../../../bench/word-timing/measure.js';
import { SAMPLES_DIR } from '../../support/samples.js';

// Reference: the word events libespeak-ng reports while it makes the very samples of the clip
// (bench/word-timing/espeak-word-events.py; the test fails if its audio differs from the clip's).
describe('estimated word timings on espeak-ng clips', () => {
  it('put at least 80 % of word starts within 150 ms of where espeak-ng speaks them', () => {
    const scores = measureSamples(path.join(SAMPLES_DIR, 'stories'), 2);
    const words = scores.reduce((n, s) => n + s.words, 0);
    const within = scores.reduce((n, s) => n + s.within150, 0);
    expect(words).toBeGreaterThan(500);
    expect(within / words).toBeGreaterThanOrEqual(0.8);
  }, 180_000);
});
