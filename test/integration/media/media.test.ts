import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config/config.js';
import { ProviderError } from '../../../src/providers/provider-error.js';
import { CardImageGenerator } from '../../../src/providers/image/card.js';
import { EspeakNgSynthesizer } from '../../../src/providers/speech/espeak-ng.js';
import { MediaRepository } from '../../../src/repositories/media.repository.js';

const run = promisify(execFile);
const config = loadConfig({});
const media = new MediaRepository(config);
const FONT = config.cardFontFile;

let root: string;
/** A folder whose name has spaces, quotes, a colon, a comma and brackets. */
let nasty: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'storyforge-media-it-'));
  nasty = path.join(root, `it's "odd": [dir], ok`);
  await mkdir(nasty, { recursive: true });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function sine(file: string, options: { rate: number; seconds: number; channels?: number; volume?: number }) {
  const layout = options.channels === 2 ? 'stereo' : 'mono';
  await run('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `sine=f=330:r=${options.rate}:d=${options.seconds}`,
    '-af', `volume=${options.volume ?? 0.5},aformat=channel_layouts=${layout}`,
    `file:${file}`,
  ]);
}

async function streamInfo(file: string): Promise<{ sampleRate?: number; width?: number; height?: number; codec: string; channels?: number }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', `file:${file}`]);
  const stream = (JSON.parse(stdout) as { streams: Record<string, unknown>[] }).streams[0]!;
  return {
    codec: String(stream['codec_name']),
    sampleRate: stream['sample_rate'] ? Number(stream['sample_rate']) : undefined,
    channels: stream['channels'] ? Number(stream['channels']) : undefined,
    width: stream['width'] ? Number(stream['width']) : undefined,
    height: stream['height'] ? Number(stream['height']) : undefined,
  };
}

/** The same measurement as shared/tools/check-output: ebur128=peak=true summary. */
async function ebur128(file: string): Promise<{ lufs: number; truePeak: number }> {
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-nostats', '-i', `file:${file}`, '-af', 'ebur128=peak=true', '-f', 'null', '-']);
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  const lufs = Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)?.[1]);
  const truePeak = Number(/Peak:\s+(-?[\d.]+) dBFS/.exec(summary)?.[1]);
  return { lufs, truePeak };
}

describe('MediaRepository (real ffmpeg)', () => {
  it('measures decoded durations exactly for WAV and MP3', async () => {
    const wav = path.join(nasty, 'one second.wav');
    await sine(wav, { rate: 44100, seconds: 1 });
    expect(await media.durationMs(wav)).toBe(1000);
    const mp3 = path.join(nasty, 'one: second.mp3');
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', `file:${wav}`, '-c:a', 'libmp3lame', '-b:a', '128k', `file:${mp3}`]);
    expect(await media.durationMs(mp3)).toBe(1000);
  });

  it('joins a 24 kHz mono clip and a 44.1 kHz stereo clip with a pause, at the rate asked', async () => {
    const a = path.join(nasty, 'a 24k.wav');
    const b = path.join(nasty, "b 44k 'stereo'.wav");
    await sine(a, { rate: 24000, seconds: 1.5 });
    await sine(b, { rate: 44100, seconds: 2.25, channels: 2 });
    const out = path.join(nasty, 'joined: out.wav');
    const pauseMs = 400;
    await media.joinClips({ clips: [a, b], outFile: out, pauseMs, sampleRate: 44100 });
    const expected = 1500 + 2250 + pauseMs;
    const actual = await media.durationMs(out);
    console.log(`join: expected ${expected} ms, decoded ${actual.toFixed(3)} ms`);
    expect(Math.abs(actual - expected) / expected).toBeLessThan(0.01);
    expect(await streamInfo(out)).toMatchObject({ codec: 'pcm_s16le', sampleRate: 44100, channels: 1 });
    // And the narration made from it (loudness pass, MP3) keeps that length.
    const narration = path.join(nasty, 'narration: 24k + 44k.mp3');
    const { lufs, truePeakDb, bitrateKbps } = config.narration;
    await media.normalizeLoudness({ inFile: out, outFile: narration, lufs, truePeakDb, sampleRate: 44100, bitrateKbps });
    const narrationMs = await media.durationMs(narration);
    console.log(`narration: expected ${expected} ms, decoded ${narrationMs.toFixed(3)} ms`);
    expect(Math.abs(narrationMs - expected) / expected).toBeLessThan(0.01);
    // No temporary files left beside the output.
    expect((await readdir(nasty)).filter((f) => f.endsWith('.tmp.wav'))).toEqual([]);
  });

  it('joins at 24 kHz too (explicit output rate)', async () => {
    const a = path.join(nasty, 'c.wav');
    await sine(a, { rate: 48000, seconds: 0.5 });
    const out = path.join(nasty, 'joined24.wav');
    await media.joinClips({ clips: [a, a, a], outFile: out, pauseMs: 250, sampleRate: 24000 });
    expect(await media.durationMs(out)).toBeCloseTo(2000, 0);
    expect((await streamInfo(out)).sampleRate).toBe(24000);
  });

  it('joins clips of one PCM format without ffmpeg at their own rate, and falls back to ffmpeg otherwise', async () => {
    const a = path.join(nasty, 'one rate a.wav');
    const b = path.join(nasty, 'one rate b.wav');
    await sine(a, { rate: 22050, seconds: 1.5 });
    await sine(b, { rate: 22050, seconds: 1 });
    const out = path.join(nasty, 'joined: at clip rate.wav');
    await media.joinClips({ clips: [a, b, a], outFile: out, pauseMs: 400, sampleRate: 44100, clipRate: true });
    expect(await streamInfo(out)).toMatchObject({ codec: 'pcm_s16le', sampleRate: 22050, channels: 1 });
    expect(await media.durationMs(out)).toBe(1500 + 1000 + 1500 + 2 * 400);
    // A clip at another rate: ffmpeg joins at the rate asked.
    const c = path.join(nasty, 'other rate.wav');
    await sine(c, { rate: 24000, seconds: 0.5 });
    await media.joinClips({ clips: [a, c], outFile: out, pauseMs: 400, sampleRate: 44100, clipRate: true });
    expect(await streamInfo(out)).toMatchObject({ codec: 'pcm_s16le', sampleRate: 44100, channels: 1 });
    expect(await media.durationMs(out)).toBeCloseTo(1500 + 500 + 400, 0);
  });

  it('normalises a quiet espeak-ng narration to −16 LUFS with true peak ≤ −1 dBTP', async () => {
    const sentences = [
      'Once upon a time, in a quiet village by the lake, there lived an old woman who told stories to every child.',
      'Every evening the children gathered by her door, and she spoke of dragons, rivers and the stars above the hills.',
      'One night a stranger came to the village, tired and hungry, and nobody but the old woman would open the door for him.',
      'In the morning the valley had turned into a great lake, and only her small house stood dry on a green island.',
    ];
    const clips: string[] = [];
    for (const [i, sentence] of sentences.entries()) {
      const textFile = path.join(root, `s${i}.txt`);
      await writeFile(textFile, sentence);
      const clip = path.join(nasty, `clip ${i}.wav`);
      await run('espeak-ng', ['-v', 'en-us', '-a', '15', '-w', clip, '-f', textFile]);
      clips.push(clip);
    }
    const joined = path.join(nasty, 'joined narration.wav');
    await media.joinClips({ clips, outFile: joined, pauseMs: 400, sampleRate: 44100, clipRate: true });
    const before = await ebur128(joined);
    const narration = path.join(nasty, "narration: 'final'.mp3");
    const { lufs, truePeakDb, sampleRate, bitrateKbps } = config.narration;
    const result = await media.normalizeLoudness({ inFile: joined, outFile: narration, lufs, truePeakDb, sampleRate, bitrateKbps });
    const after = await ebur128(narration);
    const clipSum = (await Promise.all(clips.map((c) => media.durationMs(c)))).reduce((s, d) => s + d, 0);
    const narrationMs = await media.durationMs(narration);
    console.log(
      `loudness: input ${before.lufs} LUFS / ${before.truePeak} dBTP (measured ${result.measured.inputI} LUFS, ` +
        `${result.measured.inputTp} dBTP); output ${after.lufs} LUFS / ${after.truePeak} dBTP ` +
        `(${result.method}, ${result.runs} ffmpeg runs; file measured ${result.output.inputI} LUFS / ${result.output.inputTp} dBTP); clips ${clipSum.toFixed(1)} ms + 3 pauses, narration ${narrationMs.toFixed(1)} ms`,
    );
    expect(before.lufs).toBeLessThan(-25);
    expect(result.measured.inputI).toBeCloseTo(before.lufs, 0);
    expect(Math.abs(after.lufs - -16)).toBeLessThanOrEqual(1);
    expect(after.truePeak).toBeLessThanOrEqual(-1);
    expect(await streamInfo(narration)).toMatchObject({ codec: 'mp3', sampleRate: 44100 });
    expect(Math.abs(narrationMs - (clipSum + 3 * 400)) / (clipSum + 1200)).toBeLessThan(0.01);
  });

  it('uses one gain when it fits, at 48 kHz', async () => {
    // An amplitude-modulated tone: low peak-to-loudness ratio.
    const tone = path.join(nasty, 'quiet tone.wav');
    await run('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi',
      '-i', 'aevalsrc=0.02*(1+0.6*sin(2*PI*t/4))*sin(2*PI*330*t):s=22050:d=6', `file:${tone}`,
    ]);
    // At 320k the MP3 keeps the level; at 128k libmp3lame lowers this tone by ~0.44 LU and a second pass re-aims.
    for (const [bitrateKbps, method, runs] of [[320, 'gain', 3], [128, 'gain', 5]] as const) {
      const out = path.join(nasty, `tone: normalised ${bitrateKbps}.mp3`);
      const result = await media.normalizeLoudness({ inFile: tone, outFile: out, lufs: -16, truePeakDb: -1.5, sampleRate: 48000, bitrateKbps });
      const after = await ebur128(out);
      console.log(`tone ${bitrateKbps}k: input ${result.measured.inputI} LUFS → ${after.lufs} LUFS / ${after.truePeak} dBTP (${result.method}, ${result.runs} runs)`);
      expect(result).toMatchObject({ method, runs });
      expect(Math.abs(after.lufs - -16)).toBeLessThanOrEqual(0.3);
      expect(after.truePeak).toBeLessThanOrEqual(-1);
      expect((await streamInfo(out)).sampleRate).toBe(48000);
      expect(await media.durationMs(out)).toBeCloseTo(6000, 0);
    }
  });

  it('reaches the target on a steady tone too (LRA 0: one gain)', async () => {
    const tone = path.join(nasty, 'steady tone.wav');
    await sine(tone, { rate: 22050, seconds: 5, volume: 0.03 });
    const out = path.join(nasty, 'steady.mp3');
    const result = await media.normalizeLoudness({ inFile: tone, outFile: out, lufs: -16, truePeakDb: -1.5, sampleRate: 24000, bitrateKbps: 96 });
    const after = await ebur128(out);
    console.log(`steady: input ${result.measured.inputI} LUFS → ${after.lufs} LUFS / ${after.truePeak} dBTP (${result.method}, ${result.runs} runs)`);
    expect(result.method).toBe('gain');
    expect(Math.abs(after.lufs - -16)).toBeLessThanOrEqual(0.5);
    expect(after.truePeak).toBeLessThanOrEqual(-1);
    expect((await streamInfo(out)).sampleRate).toBe(24000);
  });

  it('fails with the exit code and the end of stderr', async () => {
    const missing = path.join(nasty, 'missing.wav');
    const error = (await media.durationMs(missing).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(/exit code 1/);
    expect(error.message).toMatch(/No such file or directory/);
  });

  it('stops when the signal aborts', async () => {
    const long = path.join(nasty, 'long.wav');
    await sine(long, { rate: 48000, seconds: 600 });
    const controller = new AbortController();
    const started = Date.now();
    const pending = media.normalizeLoudness({
      inFile: long, outFile: path.join(nasty, 'aborted.mp3'), lufs: -16, truePeakDb: -1.5, sampleRate: 44100, bitrateKbps: 128,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('names the missing binary', async () => {
    const broken = new MediaRepository({ ...config, binaries: { ...config.binaries, ffprobe: '/nonexistent/ffprobe' } });
    await expect(broken.durationMs('/x.wav')).rejects.toThrow(/not found.*FFPROBE_PATH/);
  });
});

describe('CardImageGenerator (real ffmpeg)', () => {
  const isPng = (data: Uint8Array) => Buffer.from(data.subarray(0, 8)).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

  it('renders a 1280×720 PNG with Vietnamese text', async () => {
    const cards = new CardImageGenerator(media, { fontFile: FONT });
    const image = await cards.generate({
      prompt: 'a lake',
      text: 'Ngày xửa ngày xưa, ở vùng núi Bắc Kạn có một bà cụ ăn xin đi khắp nơi. 100% người dân đều không cho bà ăn: chỉ có hai mẹ con nghèo thương bà.',
      index: 2,
      total: 12,
      title: 'Sự tích Hồ Ba Bể',
      style: { genre: 'truyện cổ tích', tone: 'ấm áp' },
      language: 'vi',
    });
    expect(image).toMatchObject({ mediaType: 'image/png', extension: 'png', placeholder: true, model: 'card' });
    expect(isPng(image.data)).toBe(true);
    const file = path.join(root, 'vi-card.png');
    await writeFile(file, image.data);
    expect(await streamInfo(file)).toMatchObject({ codec: 'png', width: 1280, height: 720 });
  });

  it('renders with a font path holding spaces, quotes and a colon', async () => {
    const fontDir = path.join(nasty, "fonts: 'dejavu' \"sans\"");
    await mkdir(fontDir, { recursive: true });
    const font = path.join(fontDir, 'Deja:Vu Sans.ttf');
    await run('cp', [FONT, font]);
    const out = path.join(nasty, "card: it's \"3\".png");
    await media.renderCard({
      outFile: out,
      width: 1280,
      height: 720,
      fontFile: font,
      background: { from: '0x0f172a', to: '0x1e3a8a' },
      textColor: 'white',
      accentColor: '0x93c5fd',
      title: "It's a title: with [brackets], commas; and 50% %{pts}",
      bodyLines: ['Sự tích Hồ Ba Bể', "it's: 'quoted' \\ back"],
      label: '3 / 12',
    });
    expect(await streamInfo(out)).toMatchObject({ codec: 'png', width: 1280, height: 720 });
  });

  it('gives the same colours for the same style (same bytes for the same request)', async () => {
    const cards = new CardImageGenerator(media, { fontFile: FONT, width: 640, height: 360 });
    const request = { prompt: '', text: 'The same words.', index: 0, total: 1, title: 'Same', style: { genre: 'mystery' }, language: 'en' };
    const [a, b] = [await cards.generate(request), await cards.generate(request)];
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
  });

  it('draws cards asked for at once together, each as it would be alone; an aborted one is given up', async () => {
    const cards = new CardImageGenerator(media, { fontFile: FONT, width: 640, height: 360 });
    const request = (index: number, genre: string) => ({ prompt: '', text: `Words of card ${index + 1}, Hồ Ba Bể.`, index, total: 6, title: 'Many', style: { genre }, language: 'vi' });
    const alone = await cards.generate(request(2, 'mystery'));
    const aborted = new AbortController();
    const pending = [0, 1, 2, 3, 4].map((i) => cards.generate(request(i, i % 2 ? 'legend' : 'mystery')));
    const given = cards.generate({ ...request(5, 'horror'), signal: aborted.signal }).catch((e: unknown) => e);
    aborted.abort();
    const drawn = await Promise.all(pending);
    expect(await given).toMatchObject({ name: 'AbortError' });
    expect(new Set(drawn.map((d) => Buffer.from(d.data).toString('base64'))).size).toBe(5);
    expect(Buffer.from(drawn[2]!.data).equals(Buffer.from(alone.data))).toBe(true);
    for (const [i, d] of drawn.entries()) {
      const file = path.join(root, `batch-card-${i}.png`);
      await writeFile(file, d.data);
      expect(await streamInfo(file)).toMatchObject({ codec: 'png', width: 640, height: 360 });
    }
  });

  it('reports a missing font as a permanent ProviderError', async () => {
    const cards = new CardImageGenerator(media, { fontFile: path.join(root, 'no-such-font.ttf') });
    const error = await cards
      .generate({ prompt: '', text: 'x', index: 0, total: 1, title: 't', style: {}, language: 'en' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: 'permanent', provider: 'card' });
    expect((error as Error).message).toMatch(/font file .*no-such-font\.ttf.* cannot be read/);
  });
});

describe('EspeakNgSynthesizer (real espeak-ng)', () => {
  const speech = new EspeakNgSynthesizer({ binary: config.binaries.espeakNg });

  it.each([
    ['vi', 'Ngày xửa ngày xưa, ở vùng núi Bắc Kạn có một hồ nước rất rộng.', 'vi'],
    ['en', 'Once upon a time there was a quiet lake.', 'en-us'],
  ])('speaks %s into a decodable WAV', async (language, text, voice) => {
    const result = await speech.synthesize({ text, language });
    expect(result).toMatchObject({ mediaType: 'audio/wav', extension: 'wav', voice, model: 'espeak-ng' });
    const file = path.join(root, `speech-${language}.wav`);
    await writeFile(file, result.data);
    expect(await streamInfo(file)).toMatchObject({ codec: 'pcm_s16le', sampleRate: 22050 });
    expect(await media.durationMs(file)).toBeGreaterThan(1000);
  });

  it('lets an explicit voice win', async () => {
    const result = await speech.synthesize({ text: 'Hello.', language: 'en', voice: 'en-gb' });
    expect(result.voice).toBe('en-gb');
  });

  it('rejects a language without a voice as permanent, naming the choices', async () => {
    const error = await speech.synthesize({ text: 'Hello.', language: 'xx' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: 'permanent', provider: 'espeak-ng' });
    expect((error as Error).message).toMatch(/"xx".*vi, zh/s);
  });

  it('rejects an unknown explicit voice as permanent', async () => {
    // Not "no-such-voice": espeak-ng reads that as Norwegian ("no") and speaks it, exit code 0.
    const error = await speech.synthesize({ text: 'Hello.', language: 'en', voice: 'zzzz' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'permanent', provider: 'espeak-ng' });
  });

  it('tells how to install espeak-ng when the binary is missing', async () => {
    const missing = new EspeakNgSynthesizer({ binary: '/nonexistent/espeak-ng' });
    await expect(missing.synthesize({ text: 'Hello.', language: 'en' })).rejects.toThrow(/Debian package espeak-ng/);
  });
});
