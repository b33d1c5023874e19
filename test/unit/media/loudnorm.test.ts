import { describe, expect, it } from 'vitest';
import { nextGainDb, planLoudnessNormalization } from '../../../src/media/loudnorm.js';

describe('planLoudnessNormalization', () => {
  const base = { inputI: -35.68, inputTp: -16.64, inputLra: 2.3, inputThresh: -45.83 };
  const target = { lufs: -16, truePeakDb: -1.5 };

  it('chooses one gain when it keeps the true peak under the ceiling, whatever the loudness range', () => {
    expect(planLoudnessNormalization({ ...base, inputI: -30, inputTp: -20 }, target)).toEqual({ method: 'gain', gainDb: 14 });
    // Exactly at the ceiling still fits.
    expect(planLoudnessNormalization({ ...base, inputI: -30, inputTp: -15.5 }, target)).toEqual({ method: 'gain', gainDb: 14 });
    expect(planLoudnessNormalization({ ...base, inputI: -30, inputTp: -20, inputLra: 0 }, target)).toEqual({ method: 'gain', gainDb: 14 });
  });

  it('chooses gain + limiter for peaky speech (espeak-ng: PLR ≈ 20 dB)', () => {
    expect(planLoudnessNormalization(base, target)).toEqual({ method: 'gain-limiter', gainDb: 19.68 });
  });

  it('runs a single loudnorm pass on silence', () => {
    expect(planLoudnessNormalization({ ...base, inputI: -Infinity, inputTp: -Infinity }, target)).toEqual({ method: 'loudnorm-single' });
  });
});

describe('nextGainDb', () => {
  it('takes the encoder shift as it is: without a limiter one step lands', () => {
    // Gain 14 on −30 LUFS: 16.0 into the encoder, the MP3 measures −16.44 → aim 0.44 higher.
    expect(nextGainDb([{ gainDb: 14, pcmLufs: -16, outputLufs: -16.44 }], -16, -30)).toBe(14.44);
  });

  it('follows the slope through the limiter from the probe of the same pass', () => {
    // Measured with ffmpeg 5.1 on espeak-ng speech (−21.3 LUFS): gain 5.3 → −16.8 before the
    // encoder, −17.3 in the MP3; the probe at 7.3 dB → −15.66 (slope 0.57).
    const next = nextGainDb([{ gainDb: 5.3, pcmLufs: -16.8, outputLufs: -17.3, probe: { gainDb: 7.3, pcmLufs: -15.66 } }], -16, -21.3);
    expect(next).toBeCloseTo(5.3 + 1.3 / 0.57, 1);
  });

  it('without a probe, uses the pass before, then the input itself at gain 0', () => {
    // Input −22 LUFS, gain 5 → −17.5: slope 0.9 → 1.5 / 0.9 more.
    expect(nextGainDb([{ gainDb: 5, pcmLufs: -17.5, outputLufs: -17.5 }], -16, -22)).toBe(6.67);
    // Gain 4 → −18.2 in the pass before: slope 0.7 → 1.5 / 0.7 more.
    const twoPasses = [{ gainDb: 4, pcmLufs: -18.2, outputLufs: -18.2 }, { gainDb: 5, pcmLufs: -17.5, outputLufs: -17.5 }];
    expect(nextGainDb(twoPasses, -16, -22)).toBe(7.14);
  });

  it('clamps the slope and the step', () => {
    const flat = nextGainDb([{ gainDb: 10, pcmLufs: -20, outputLufs: -20 }, { gainDb: 20, pcmLufs: -20, outputLufs: -20 }], -16, -30);
    expect(flat).toBe(32); // slope 0 → 0.2 → step 20 → clamped to 12
    expect(() => nextGainDb([], -16, -30)).toThrow(/no attempt/);
  });
});
