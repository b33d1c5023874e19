import { describe, expect, it } from 'vitest';

import { nextGainDb, parseLoudnormJson, planLoudnessNormalization } from '../../../src/media/loudnorm.js';

/** Captured from ffmpeg 5.1.9 (Debian 12): a quiet espeak-ng clip, loudnorm=I=-16:TP=-1.5:LRA=11:print_format=json. */
const MEASURE_STDERR = `Input #0, wav, from 'file:/tmp/exp/en.wav':
  Duration: 00:00:08.99, bitrate: 352 kb/s
  Stream #0:0: Audio: pcm_s16le ([1][0][0][0] / 0x0001), 22050 Hz, 1 channels, s16, 352 kb/s
Stream mapping:
  Stream #0:0 -> #0:0 (pcm_s16le (native) -> pcm_s16le (native))
Output #0, null, to 'pipe:':
  Metadata:
    encoder         : Lavf59.27.100
  Stream #0:0: Audio: pcm_s16le, 192000 Hz, mono, s16, 3072 kb/s
    Metadata:
      encoder         : Lavc59.37.100 pcm_s16le
size=N/A time=00:00:08.99 bitrate=N/A speed= 104x    
video:0kB audio:3372kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: unknown
[Parsed_loudnorm_0 @ 0x558cdac294c0] 
{
\t"input_i" : "-35.68",
\t"input_tp" : "-16.64",
\t"input_lra" : "2.30",
\t"input_thresh" : "-45.83",
\t"output_i" : "-17.22",
\t"output_tp" : "-1.50",
\t"output_lra" : "0.50",
\t"output_thresh" : "-27.27",
\t"normalization_type" : "dynamic",
\t"target_offset" : "1.22"
}
`;

describe('parseLoudnormJson', () => {
  it('reads the captured block into numbers', () => {
    expect(parseLoudnormJson(MEASURE_STDERR)).toEqual({
      inputI: -35.68,
      inputTp: -16.64,
      inputLra: 2.3,
      inputThresh: -45.83,
      outputI: -17.22,
      outputTp: -1.5,
      outputLra: 0.5,
      outputThresh: -27.27,
      normalizationType: 'dynamic',
      targetOffset: 1.22,
    });
  });

  it('reads -inf (a silent input) as -Infinity', () => {
    const silent = MEASURE_STDERR.replace('"-35.68"', '"-inf"').replace('"-16.64"', '"-inf"');
    const m = parseLoudnormJson(silent);
    expect(m.inputI).toBe(Number.NEGATIVE_INFINITY);
    expect(m.inputTp).toBe(Number.NEGATIVE_INFINITY);
  });

  it('takes the last block when there are several', () => {
    const second = MEASURE_STDERR.replace('"dynamic"', '"linear"').replace('"1.22"', '"0.10"');
    const m = parseLoudnormJson(`${MEASURE_STDERR}\n${second}`);
    expect(m.normalizationType).toBe('linear');
    expect(m.targetOffset).toBe(0.1);
  });

  it('throws a clear error when no block is present', () => {
    expect(() => parseLoudnormJson('Input #0 …\nsize=N/A time=00:00:01.00\n')).toThrow(/no loudnorm measurement/);
    expect(() => parseLoudnormJson('')).toThrow(/output was empty/);
  });

  it('throws when a field is not a number', () => {
    expect(() => parseLoudnormJson(MEASURE_STDERR.replace('"2.30"', '"abc"'))).toThrow(/input_lra/);
    expect(() => parseLoudnormJson(MEASURE_STDERR.replace('"dynamic"', '"other"'))).toThrow(/normalization_type/);
  });
});

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
