import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, stopClis } from '../support/cli.js';
import { measureLoudness, probeImage, probeVideo } from '../support/media-probe.js';

const run = promisify(execFile);

/** The "music": a steady 8 kHz tone, where espeak-ng speech has almost no energy (about 45 dB under it). */
const TONE_HZ = 8000;
const RATE = 44_100;
const FPS = 25;
const HIGHLIGHT = '#00FF00';

/** A file's first audio stream as mono float samples at {@link RATE}, through an ffmpeg filter. */
async function samples(file: string, filter: string): Promise<Float32Array> {
  const { stdout } = await run(
    'ffmpeg',
    ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', file, '-map', '0:a:0', '-af', `pan=mono|c0=c0,${filter}`, '-ar', String(RATE), '-f', 'f32le', '-'],
    { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
  );
  const bytes = stdout as unknown as Buffer;
  return new Float32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 4));
}

/** RMS level of samples between two times, dBFS. */
function levelDb(data: Float32Array, fromMs: number, toMs: number): number {
  const from = Math.max(0, Math.round((fromMs * RATE) / 1000));
  const to = Math.min(data.length, Math.round((toMs * RATE) / 1000));
  let sum = 0;
  for (let i = from; i < to; i++) sum += data[i]! * data[i]!;
  return 10 * Math.log10(sum / Math.max(1, to - from) + 1e-20);
}

/** Silences of the narration (quieter than −45 dBFS for at least `minMs`), ms. */
async function silences(file: string, minMs: number): Promise<{ start: number; end: number }[]> {
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-nostats', '-i', file, '-af', `silencedetect=n=-45dB:d=${minMs / 1000}`, '-f', 'null', '-']);
  const found: { start: number; end: number }[] = [];
  let start: number | undefined;
  for (const line of stderr.split('\n')) {
    const s = /silence_start: ([\d.]+)/.exec(line);
    if (s) start = Number(s[1]) * 1000;
    const e = /silence_end: ([\d.]+)/.exec(line);
    if (e && start !== undefined) found.push({ start, end: Number(e[1]) * 1000 });
  }
  return found;
}

/** Word starts inside each cue of subtitles.words.vtt (the inline `<hh:mm:ss.mmm>` timestamps), ms on the narration. */
function inlineWordStarts(vtt: string): number[] {
  const ms = (t: string) => {
    const [h, m, s] = t.split(':');
    return (Number(h) * 3600 + Number(m) * 60 + Number(s)) * 1000;
  };
  return [...vtt.matchAll(/<(\d\d:\d\d:\d\d\.\d\d\d)>/g)].map((m) => ms(m[1]!));
}

/**
 * Per frame of a strip of the video: the horizontal centre of the highlight-coloured pixels (NaN
 * when there are too few). The strip is where the shorts captions sit, below the fitted card.
 */
async function highlightCentres(video: string, width: number, height: number): Promise<number[]> {
  const top = Math.round(height * 0.55);
  const strip = Math.round(height * 0.35);
  const { stdout } = await run(
    'ffmpeg',
    ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', video, '-map', '0:v:0', '-vf', `crop=${width}:${strip}:0:${top}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { encoding: 'buffer', maxBuffer: 512 * 1024 * 1024 },
  );
  const bytes = stdout as unknown as Buffer;
  const frameBytes = width * strip * 3;
  const centres: number[] = [];
  for (let offset = 0; offset + frameBytes <= bytes.length; offset += frameBytes) {
    let count = 0;
    let sumX = 0;
    for (let i = 0; i < frameBytes; i += 3) {
      const [r, g, b] = [bytes[offset + i]!, bytes[offset + i + 1]!, bytes[offset + i + 2]!];
      if (g > 170 && r < 110 && b < 110) {
        count++;
        sumX += (i / 3) % width;
      }
    }
    centres.push(count >= 6 ? sumX / count : Number.NaN);
  }
  return centres;
}

/**
 * `storyforge run` of a 9:16 story with shorts captions, a title card and music, measured as a
 * listener and a viewer would: the music under the voice and in the pauses, the mix's loudness,
 * and when each word lights up against its word timing.
 */
describe('storyforge run --music (9:16, shorts captions, title card)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-cli-music-'));
  });
  afterEach(stopClis);
  afterAll(async () => {
    await stopClis();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('ducks the music under speech, lets it back up in pauses, meets the loudness target and highlights each word on time', async () => {
    const story = path.join(dir, 'ho-ba-be.txt');
    await fs.writeFile(
      story,
      'Sự tích Hồ Ba Bể\n\nNgày xưa, ở vùng núi Bắc Kạn có một bà cụ ăn xin.\n\nChỉ có hai mẹ con nghèo thương bà, cho bà ăn và ngủ nhờ.\n',
    );
    const tone = path.join(dir, 'tone.wav');
    // 2.5 s, so the music has to loop several times; 0.25 amplitude (about −15 LUFS, louder than the voice).
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `sine=frequency=${TONE_HZ}:sample_rate=${RATE}:duration=2.5`, '-af', 'volume=6dB', tone]);
    const out = path.join(dir, 'out');
    const result = await runCli(
      ['run', story, '--out', out, '--video-preset', '9:16', '--captions', 'shorts', '--caption-highlight', HIGHLIGHT, '--music', tone, '--music-volume', '-6', '--title-card', '--words-per-audio', '8', '--words-per-image', '12'],
      // Pauses of 1.5 s between clips: long enough for the music to come back up.
      { DATA_DIR: path.join(dir, 'data'), VIDEO_SCALE: '0.25', VIDEO_FPS: String(FPS), AUDIO_PAUSE_MS: '1500', NARRATION_SAMPLE_RATE: String(RATE) },
    );
    expect(result.stderr).not.toMatch(/✗/);
    expect(result.code).toBe(0);

    const folder = path.join(out, 'ho-ba-be');
    const files = (await fs.readdir(folder)).filter((f) => !f.startsWith('.')).sort();
    expect(files).toEqual(['audio', 'images', 'narration.mp3', 'soundtrack.mp3', 'story.json', 'story.md', 'subtitles.srt', 'subtitles.vtt', 'subtitles.words.vtt', 'thumbnail.jpg', 'video.mp4']);
    const doc = JSON.parse(await fs.readFile(path.join(folder, 'story.json'), 'utf8'));
    const introMs: number = doc.video.introMs;
    expect(introMs).toBe(1800);
    expect(doc.soundtrack).toMatchObject({ file: 'soundtrack.mp3', narrationStartMs: 1800, music: { name: 'tone.wav', volumeDb: -6, duckingDb: 12 } });
    expect(doc.thumbnail).toEqual({ file: 'thumbnail.jpg', width: 1080, height: 1920 });
    expect(await probeImage(path.join(folder, 'thumbnail.jpg'))).toMatchObject({ width: 1080, height: 1920, codec: 'mjpeg' });

    // Loudness of the mix, as the soundtrack and as the video's AAC track.
    const soundtrackFile = path.join(folder, 'soundtrack.mp3');
    const mix = await measureLoudness(soundtrackFile);
    expect(Math.abs(mix.lufs + 16)).toBeLessThanOrEqual(1);
    expect(mix.truePeak).toBeLessThanOrEqual(-1);
    const inVideo = await measureLoudness(path.join(folder, 'video.mp4'));
    expect(Math.abs(inVideo.lufs + 16)).toBeLessThanOrEqual(1);

    // Speech and pauses, from the voice-only narration, moved behind the title card.
    const narrationFile = path.join(folder, 'narration.mp3');
    const narrationMs = doc.narration.durationMs as number;
    const quiet = await silences(narrationFile, 150);
    const speech: { start: number; end: number }[] = [];
    let from = 0;
    for (const s of [...quiet, { start: narrationMs, end: narrationMs }]) {
      if (s.start - from >= 300) speech.push({ start: from + introMs + 50, end: s.start + introMs - 50 });
      from = s.end;
    }
    // Long pauses, before the music's 3 s fade-out at the end (measured 600 ms in: the ducking's release).
    const fadeOutFrom = (doc.soundtrack.durationMs as number) - 3000;
    const pauses = quiet
      .filter((s) => s.end - s.start >= 1000 && s.end + introMs <= fadeOutFrom)
      .map((s) => ({ start: s.start + introMs + 600, end: s.end + introMs - 100 }));
    expect(speech.length).toBeGreaterThanOrEqual(3);
    expect(pauses.length).toBeGreaterThanOrEqual(1);

    const toneOnly = await samples(soundtrackFile, `bandpass=f=${TONE_HZ}:width_type=h:w=60,bandpass=f=${TONE_HZ}:width_type=h:w=60`);
    const voiceOnly = await samples(soundtrackFile, `bandreject=f=${TONE_HZ}:width_type=h:w=400`);
    const underSpeech = speech.map((w) => ({ voice: levelDb(voiceOnly, w.start, w.end), music: levelDb(toneOnly, w.start, w.end) }));
    const inPauses = pauses.map((w) => levelDb(toneOnly, w.start, w.end));
    const musicUnderSpeech = Math.max(...underSpeech.map((w) => w.music));
    const figures = {
      speechWindows: underSpeech.map((w) => ({ voiceDb: +w.voice.toFixed(1), musicDb: +w.music.toFixed(1), belowVoiceDb: +(w.voice - w.music).toFixed(1) })),
      pauseMusicDb: inPauses.map((v) => +v.toFixed(1)),
      mixLufs: mix.lufs,
      mixTruePeakDb: mix.truePeak,
      videoLufs: inVideo.lufs,
    };
    console.log(`soundtrack figures: ${JSON.stringify(figures)}`);
    // Music only 6 dB under the voice in pauses: under speech it is 10 dB or more below only thanks to the ducking.
    for (const w of underSpeech) expect(w.voice - w.music).toBeGreaterThanOrEqual(10);
    // Back up in every long pause: clearly above the loudest ducked moment.
    for (const level of inPauses) expect(level - musicUnderSpeech).toBeGreaterThanOrEqual(8);

    // The highlighted word: its colour moves to word k on the frame its timing says (title card included).
    const { width, height } = await probeVideo(path.join(folder, 'video.mp4'));
    const centres = await highlightCentres(path.join(folder, 'video.mp4'), width, height);
    const starts = inlineWordStarts(await fs.readFile(path.join(folder, 'subtitles.words.vtt'), 'utf8'));
    expect(starts.length).toBeGreaterThanOrEqual(5);
    const errors: number[] = [];
    for (const start of starts) {
      const expected = Math.ceil(((introMs + start) * FPS) / 1000 - 1e-6);
      // The frame where the highlight's centre jumps, looked for within 3 frames of the expected one.
      let moved: number | undefined;
      for (let f = Math.max(1, expected - 3); f <= Math.min(centres.length - 1, expected + 3); f++) {
        const [before, now] = [centres[f - 1]!, centres[f]!];
        if (Number.isFinite(before) && Number.isFinite(now) && Math.abs(now - before) > 2) {
          moved = f;
          break;
        }
      }
      expect(moved, `highlight of the word at ${start} ms (frame ${expected})`).toBeDefined();
      errors.push(moved! - expected);
    }
    console.log(`highlight frame errors: ${JSON.stringify(errors)}`);
    for (const error of errors) expect(Math.abs(error)).toBeLessThanOrEqual(1);
  }, 300_000);
});
