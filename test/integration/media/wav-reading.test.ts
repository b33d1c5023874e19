import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDurationProbeArgs, buildSilenceDetectArgs, parseDecodedDurationMs, parseSilences } from '../../../src/media/ffmpeg-args.js';
import { pcmDurationMs, pcmSilences, readPcmWav } from '../../../src/media/wav.js';

const run = promisify(execFile);

/** Tone 0.5 s, silence 0.3 s, tone 0.5 s, silence 0.05 s (too short), tone 0.4 s, silence 0.25 s. */
const PATTERN =
  'sine=f=440:d=0.5[a];anullsrc=d=0.3[b];sine=f=300:d=0.5[c];anullsrc=d=0.05[d];sine=f=500:d=0.4[e];anullsrc=d=0.25[f];[a][b][c][d][e][f]concat=n=6:v=0:a=1';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wav-reading-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function make(name: string, args: string[]): Promise<string> {
  const file = path.join(dir, name);
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-filter_complex', PATTERN, ...args, file]);
  return file;
}

/** What ffprobe and ffmpeg's silencedetect say of a file. */
async function byFfmpeg(file: string): Promise<{ durationMs: number; silences: { startMs: number; endMs: number }[] }> {
  const durationMs = parseDecodedDurationMs((await run('ffprobe', buildDurationProbeArgs(file))).stdout);
  const { stderr } = await run('ffmpeg', buildSilenceDetectArgs(file));
  return { durationMs, silences: parseSilences(stderr, durationMs) };
}

describe('PCM WAV read in process', () => {
  it.each([
    ['mono 16-bit 22.05 kHz (espeak-ng)', 'mono16.wav', ['-ar', '22050', '-ac', '1', '-c:a', 'pcm_s16le']],
    ['stereo 24-bit 48 kHz', 'stereo24.wav', ['-ar', '48000', '-ac', '2', '-c:a', 'pcm_s24le']],
    ['mono 32-bit 24 kHz', 'mono32.wav', ['-ar', '24000', '-ac', '1', '-c:a', 'pcm_s32le']],
  ])('%s: the same duration and silences as ffprobe and silencedetect', async (_label, name, args) => {
    const file = await make(name, args);
    const wav = readPcmWav(await fs.readFile(file));
    expect(wav).toBeDefined();
    const expected = await byFfmpeg(file);
    expect(pcmDurationMs(wav!)).toBeCloseTo(expected.durationMs, 3);
    const silences = pcmSilences(wav!);
    expect(silences).toHaveLength(expected.silences.length);
    expect(silences).toHaveLength(2);
    silences.forEach((silence, i) => {
      expect(Math.abs(silence.startMs - expected.silences[i]!.startMs)).toBeLessThan(1);
      expect(Math.abs(silence.endMs - expected.silences[i]!.endMs)).toBeLessThan(1);
    });
  });

  it('a data size never filled in (0xFFFFFFFF) counts the samples that are there', async () => {
    const bytes = await fs.readFile(await make('streamed.wav', ['-ar', '22050', '-ac', '1', '-c:a', 'pcm_s16le', '-bitexact']));
    const dataAt = bytes.indexOf('data');
    bytes.writeUInt32LE(0xffffffff, dataAt + 4);
    const wav = readPcmWav(bytes)!;
    expect(pcmDurationMs(wav)).toBeCloseTo(((bytes.length - dataAt - 8) / 2 / 22050) * 1000, 6);
  });

  it('float samples, MP3 and text are left to ffmpeg', async () => {
    expect(readPcmWav(await fs.readFile(await make('float.wav', ['-ar', '24000', '-c:a', 'pcm_f32le'])))).toBeUndefined();
    expect(readPcmWav(await fs.readFile(await make('speech.mp3', ['-ar', '24000'])))).toBeUndefined();
    expect(readPcmWav(Buffer.from('RIFF but not a wave file'))).toBeUndefined();
  });
});
