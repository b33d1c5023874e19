import { describe, expect, it } from 'vitest';

import { parseEbur128, parseEbur128Summaries } from '../../../src/media/ebur128.js';
import { cardGradientRgb } from '../../../src/media/card-background.js';
import { joinPcmWavs, pcmDurationMs, pcmToWav, readPcmWav } from '../../../src/media/wav.js';

const summary = (name: string, i: string, thresh: string, lra: string, peak?: string) =>
  `[${name} @ 0x5575648ec500] Summary:

  Integrated loudness:
    I:         ${i} LUFS
    Threshold: ${thresh} LUFS

  Loudness range:
    LRA:         ${lra} LU
    Threshold: -34.7 LUFS
    LRA low:   -15.3 LUFS
    LRA high:  -14.1 LUFS
` + (peak === undefined ? '' : `
  True peak:
    Peak:       ${peak} dBFS
`);

/** Shaped like ffmpeg 5.1.9's stderr for a graph with two named instances, configured twice (an empty summary each first). */
const TWO_INSTANCES =
  summary('ebur128@probe', '-70.0', '  0.0', '0.0') +
  summary('ebur128@pcm', '-70.0', '  0.0', '0.0') +
  'Stream mapping:\n  Stream #0:0 (pcm_s16le) -> asplit:default\nsize=     361kB time=00:00:18.41 bitrate= 160.7kbits/s speed=69.6x\n' +
  summary('ebur128@probe', '-14.6', '-24.7', '1.2') +
  summary('ebur128@pcm', '-16.8', '-26.9', '1.5');

describe('parseEbur128', () => {
  it('reads the last summary of each named instance', () => {
    const readings = parseEbur128Summaries(TWO_INSTANCES);
    expect(readings.get('probe')).toMatchObject({ inputI: -14.6, inputThresh: -24.7, inputLra: 1.2 });
    expect(readings.get('pcm')?.inputI).toBe(-16.8);
    expect(parseEbur128(TWO_INSTANCES, 'pcm').inputTp).toBeNaN(); // measured without peak=true
    expect(() => parseEbur128(TWO_INSTANCES, 'other')).toThrow(/other/);
  });

  it('reads the true peak of an unnamed instance, and silence as −Infinity', () => {
    expect(parseEbur128(summary('Parsed_ebur128_0', '-21.3', '-31.4', '1.8', '-0.4'))).toEqual({ inputI: -21.3, inputTp: -0.4, inputLra: 1.8, inputThresh: -31.4 });
    expect(parseEbur128(summary('Parsed_ebur128_0', '-70.0', '  0.0', '0.0', '-inf'))).toMatchObject({ inputI: -Infinity, inputTp: -Infinity });
  });

  it('says so when ffmpeg printed no summary', () => {
    expect(() => parseEbur128('Conversion failed!\n')).toThrow(/no ebur128 summary.*\n.*Conversion failed/);
  });
});

/** A mono 16-bit WAV of `frames` samples of value `level` at `rate` Hz. */
function clip(frames: number, level: number, rate = 22050) {
  const pcm = Buffer.alloc(frames * 2);
  for (let i = 0; i < frames; i++) pcm.writeInt16LE(level, i * 2);
  return readPcmWav(pcmToWav(pcm, rate))!;
}

describe('joinPcmWavs', () => {
  it('copies the samples with the pause between clips and 10 ms linear fades at each edge', () => {
    const a = clip(2205, 1000); // 100 ms
    const b = clip(4410, -2000); // 200 ms
    const joined = readPcmWav(joinPcmWavs([a, b], { pauseMs: 400 })!)!;
    expect(joined).toMatchObject({ sampleRate: 22050, channels: 1, bitsPerSample: 16 });
    expect(pcmDurationMs(joined)).toBeCloseTo(100 + 400 + 200, 6);
    const view = Buffer.from(joined.samples.buffer, joined.samples.byteOffset, joined.samples.byteLength);
    const at = (frame: number) => view.readInt16LE(frame * 2);
    const fade = 221; // round(10 ms × 22.05)
    expect(at(0)).toBe(0);
    expect(at(110)).toBe(Math.round((1000 * 110) / fade));
    expect(at(1000)).toBe(1000);
    expect(at(2204)).toBe(0);
    expect(at(2205 + 100)).toBe(0); // the pause
    const bStart = 2205 + 8820;
    expect(at(bStart)).toBe(0);
    expect(at(bStart + 2000)).toBe(-2000);
    expect(at(bStart + 4409)).toBe(0);
  });

  it('leaves clips of different rates or layouts to ffmpeg', () => {
    expect(joinPcmWavs([clip(100, 1), clip(100, 1, 24000)], { pauseMs: 0 })).toBeUndefined();
    const stereo = readPcmWav(pcmToWav(Buffer.alloc(400), 22050, 2))!;
    expect(joinPcmWavs([stereo], { pauseMs: 0 })).toBeUndefined();
    expect(() => joinPcmWavs([], { pauseMs: 0 })).toThrow(/no clips/);
  });
});

describe('cardGradientRgb', () => {
  it('runs from the first colour at the top-left to the second at the bottom-right', () => {
    const rgb = cardGradientRgb(64, 36, '0x0f172a', '0x1e3a8a');
    expect(rgb.length).toBe(64 * 36 * 3);
    expect([...rgb.subarray(0, 3)]).toEqual([0x0f, 0x17, 0x2a]);
    expect([...rgb.subarray(rgb.length - 3)]).toEqual([0x1e, 0x3a, 0x8a]);
    // The centre is half-way; the other two corners share one colour only on a square.
    const centre = (18 * 64 + 32) * 3;
    expect(rgb[centre + 2]).toBeGreaterThan(0x2a + 0.4 * (0x8a - 0x2a));
    expect(rgb[centre + 2]).toBeLessThan(0x2a + 0.6 * (0x8a - 0x2a));
    expect(() => cardGradientRgb(4, 4, 'white', '0x000000')).toThrow(/0xRRGGBB/);
  });
});
