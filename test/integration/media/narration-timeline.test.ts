import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config/config.js';
import { buildCues } from '../../../src/media/subtitles.js';
import { buildTimeline } from '../../../src/media/timeline.js';
import { MediaRepository } from '../../../src/repositories/media.repository.js';

const run = promisify(execFile);
const config = loadConfig({});
const media = new MediaRepository(config);

/** A mono 16-bit WAV: a tone whose loudness swells (so loudnorm sees a loudness range), `seconds` long. */
function toneWav(rate: number, seconds: number, frequency: number): Buffer {
  const samples = Math.round(rate * seconds);
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    const t = i / rate;
    const value = 0.12 * (1 + 0.25 * Math.sin((2 * Math.PI * t) / 3)) * Math.sin(2 * Math.PI * frequency * t);
    data.writeInt16LE(Math.round(value * 32767), i * 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'storyforge-timeline-it-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('narration timeline against the decoded narration (real ffmpeg)', () => {
  it('drifts less than 50 ms over a 10-minute narration of clips at four sample rates', async () => {
    const dir = path.join(root, "clips: 'ten minutes'");
    await mkdir(dir);
    // 60 clips of 9.0–11.2 s (odd lengths) at 22.05, 24, 44.1 and 48 kHz, as speech engines return them.
    const rates = [22050, 24000, 44100, 48000];
    const clips = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const file = path.join(dir, `clip ${i}.wav`);
        await writeFile(file, toneWav(rates[i % 4]!, 9 + ((i * 37) % 23) / 10 + 0.0123 * i, 220 + 7 * i));
        return file;
      }),
    );
    // What the audio step stores: each clip's decoded duration, whole milliseconds.
    const durations = await Promise.all(clips.map(async (clip) => Math.round(await media.durationMs(clip))));
    const { pauseMs, lufs, truePeakDb, sampleRate, bitrateKbps } = config.narration;

    // What the merge step does: join, normalise, MP3.
    const joined = path.join(dir, 'joined.wav');
    const narration = path.join(dir, 'narration: final.mp3');
    await media.joinClips({ clips, outFile: joined, pauseMs, sampleRate });
    const t0 = performance.now();
    const loudness = await media.normalizeLoudness({ inFile: joined, outFile: narration, lufs, truePeakDb, sampleRate, bitrateKbps });
    console.log(`normalised (${loudness.method}, ${loudness.runs} ffmpeg runs) in ${Math.round(performance.now() - t0)} ms`);
    const decodedMs = await media.durationMs(narration);

    const texts = clips.map((_, i) => `Sentence number ${i + 1} is spoken here. It has a second part.`);
    const timeline = buildTimeline({
      content: texts.join('\n\n'),
      language: 'en',
      pauseMs,
      clips: texts.map((text, i) => ({ text, durationMs: durations[i]! })),
      images: [{ index: 0, text: texts[0]! }],
    });
    const drift = timeline.durationMs - decodedMs;

    // Where each clip really starts in the decoded file: the end of each pause (silencedetect).
    const { stderr } = await run(
      'ffmpeg',
      ['-hide_banner', '-nostats', '-i', `file:${narration}`, '-af', 'silencedetect=noise=-45dB:d=0.25', '-f', 'null', '-'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const starts = [...stderr.matchAll(/silence_end: ([\d.]+)/g)].map((m) => Number(m[1]) * 1000);
    expect(starts).toHaveLength(59);
    const startErrors = starts.map((start, i) => Math.abs(start - timeline.clips[i + 1]!.startMs));
    console.log(
      `10-minute narration: timeline ${timeline.durationMs} ms, decoded ${decodedMs.toFixed(1)} ms, drift at the end ${drift.toFixed(1)} ms; ` +
        `clip starts found within ${Math.max(...startErrors).toFixed(1)} ms of the timeline (last: ${startErrors.at(-1)!.toFixed(1)} ms)`,
    );
    expect(decodedMs).toBeGreaterThan(600_000);
    expect(Math.abs(drift)).toBeLessThanOrEqual(50);
    expect(Math.max(...startErrors)).toBeLessThanOrEqual(50);

    // Subtitles stay inside the narration and in order.
    const cues = buildCues(timeline.sentences, { durationMs: decodedMs, language: 'en' });
    expect(cues).toHaveLength(120);
    expect(cues.at(-1)!.endMs).toBeLessThanOrEqual(decodedMs);
    for (let i = 1; i < cues.length; i++) expect(cues[i]!.startMs).toBeGreaterThanOrEqual(cues[i - 1]!.endMs);
  }, 240_000);
});
