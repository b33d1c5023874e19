import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config/config.js';
import { groupWords, resolveCaptionStyle } from '../../../src/media/captions.js';
import { toSrt, type SubtitleCue } from '../../../src/media/subtitles.js';
import { MediaRepository, type RenderVideoOptions } from '../../../src/repositories/media.repository.js';

const run = promisify(execFile);
const config = loadConfig({});
const media = new MediaRepository(config);

let root: string;
/** A folder whose name has spaces, quotes, a colon, a comma and brackets. */
let nasty: string;

const COLORS = [
  { name: 'red', rgb: [230, 30, 30] },
  { name: 'green', rgb: [30, 200, 30] },
  { name: 'blue', rgb: [30, 60, 230] },
] as const;
/** Image i takes over at these times (ms); the narration lasts DURATION_MS. */
const STARTS = [0, 3000, 6200];
const DURATION_MS = 9000;
const FPS = 25;

const cues: SubtitleCue[] = [
  { startMs: 0, endMs: 2900, lines: ['Ngày xửa ngày xưa, ở vùng núi', 'Bắc Kạn có một bà cụ ăn xin.'] },
  { startMs: 3000, endMs: 6100, lines: ['Đứa trẻ ở làng Phù Đổng.'] },
  { startMs: 6200, endMs: 8900, lines: ["It's \"quoted\": {not a tag} \\N"] },
];

let images: string[];
let narration: string;
let srt: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'storyforge-video-it-'));
  nasty = path.join(root, `it's "odd": [dir], ok`);
  await mkdir(nasty, { recursive: true });
  // Textured pictures (for motion) with a wide coloured band at the top (to tell them apart).
  images = await Promise.all(
    COLORS.map(async ({ name, rgb }, i) => {
      const file = path.join(nasty, `image ${i}: '${name}'.png`);
      const hex = `0x${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
      const size = i === 2 ? '720x1280' : '1280x720';
      await run('ffmpeg', [
        '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=s=${size}:r=1`,
        '-vf', `drawbox=x=0:y=0:w=iw:h=ih*0.4:color=${hex}:t=fill`, '-frames:v', '1', `file:${file}`,
      ]);
      return file;
    }),
  );
  narration = path.join(nasty, "narration: 'x'.mp3");
  await run('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `sine=f=330:r=44100:d=${DURATION_MS / 1000}`,
    '-c:a', 'libmp3lame', '-b:a', '96k', `file:${narration}`,
  ]);
  srt = path.join(nasty, "subtitles: 'vi'.srt");
  await writeFile(srt, toSrt(cues));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function renderOptions(overrides: Partial<RenderVideoOptions>): RenderVideoOptions {
  return {
    images,
    slides: STARTS.map((startMs, image) => ({ image, startMs })),
    narrationFile: narration,
    durationMs: DURATION_MS,
    subtitlesFile: srt,
    width: 480,
    height: 270,
    fps: FPS,
    crossfadeMs: 600,
    preset: 'veryfast',
    crf: 23,
    audioBitrateKbps: 128,
    language: 'vie',
    title: "Sự tích: 'hồ'",
    outFile: path.join(nasty, 'out: video.mp4'),
    workDir: nasty,
    ...overrides,
  };
}

interface Probe {
  format: { duration: string; tags?: Record<string, string> };
  streams: { codec_type: string; codec_name: string; width?: number; height?: number; pix_fmt?: string; tags?: Record<string, string> }[];
}

async function probe(file: string): Promise<Probe> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', `file:${file}`]);
  return JSON.parse(stdout) as Probe;
}

/** Top-level MP4 boxes in file order. */
async function topLevelBoxes(file: string): Promise<string[]> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const boxes: string[] = [];
    const header = Buffer.alloc(16);
    for (let at = 0; at < size; ) {
      await handle.read(header, 0, 16, at);
      let length = header.readUInt32BE(0);
      if (length === 1) length = Number(header.readBigUInt64BE(8));
      if (length === 0) length = size - at;
      boxes.push(header.toString('latin1', 4, 8));
      at += length;
    }
    return boxes;
  } finally {
    await handle.close();
  }
}

/** Raw RGB frames `[from, to)` of a region (fractions of the frame), as `frames × (w·h·3)` bytes. */
async function frames(file: string, from: number, to: number, region = { x: 0, y: 0, w: 1, h: 1 }): Promise<{ data: Buffer; size: number }> {
  const { streams } = await probe(file);
  const video = streams.find((s) => s.codec_type === 'video')!;
  const w = Math.round(video.width! * region.w);
  const h = Math.round(video.height! * region.h);
  const x = Math.round(video.width! * region.x);
  const y = Math.round(video.height! * region.y);
  const { stdout } = await run(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-i', `file:${file}`, '-vf', `select=between(n\\,${from}\\,${to - 1}),crop=${w}:${h}:${x}:${y}`,
      '-vsync', '0', '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-'],
    { encoding: 'buffer', maxBuffer: 512 * 1024 * 1024 },
  );
  return { data: stdout as unknown as Buffer, size: w * h * 3 };
}

function meanColor(frame: Buffer): number[] {
  const sum = [0, 0, 0];
  for (let i = 0; i < frame.length; i += 3) for (let c = 0; c < 3; c++) sum[c]! += frame[i + c]!;
  return sum.map((s) => s / (frame.length / 3));
}

describe('MediaRepository.renderVideo (real ffmpeg)', () => {
  let video: string;
  beforeAll(async () => {
    video = path.join(nasty, 'out: video.mp4');
    const started = performance.now();
    const chapters = STARTS.map((startMs, i) => ({ startMs, endMs: STARTS[i + 1] ?? DURATION_MS, title: ['Ngày xửa ngày xưa…', 'a=b; #2 \\ ok', 'Hết'][i]! }));
    const result = await media.renderVideo(renderOptions({ chapters }));
    console.log(`render 480×270, ${DURATION_MS / 1000} s: ${Math.round(performance.now() - started)} ms`, result);
    expect(result).toEqual({ frames: (DURATION_MS / 1000) * FPS, slides: 3, segments: 1 });
  });

  it('has one chapter per image, titled, at the image changes', async () => {
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_chapters', '-of', 'json', `file:${video}`]);
    const { chapters } = JSON.parse(stdout) as { chapters: { start_time: string; end_time: string; tags: { title: string } }[] };
    expect(chapters.map((c) => [Number(c.start_time), c.tags.title])).toEqual([
      [0, 'Ngày xửa ngày xưa…'],
      [3, 'a=b; #2 \\ ok'],
      [6.2, 'Hết'],
    ]);
  });

  it('writes H.264 + AAC with the subtitles as a mov_text track, as long as the narration, moov first', async () => {
    const info = await probe(video);
    const byType = Object.fromEntries(info.streams.map((s) => [s.codec_type, s]));
    expect(byType['video']).toMatchObject({ codec_name: 'h264', width: 480, height: 270, pix_fmt: 'yuv420p' });
    expect(byType['audio']).toMatchObject({ codec_name: 'aac', tags: { language: 'vie' } });
    expect(byType['subtitle']).toMatchObject({ codec_name: 'mov_text', tags: { language: 'vie' } });
    expect(Math.abs(Number(info.format.duration) - DURATION_MS / 1000)).toBeLessThan(0.1);
    expect(info.format.tags?.['title']).toBe("Sự tích: 'hồ'");
    const boxes = await topLevelBoxes(video);
    expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
    // The soft track holds the cues as written.
    const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', `file:${video}`, '-map', '0:s:0', '-f', 'srt', '-']);
    expect(stdout).toContain('Bắc Kạn có một bà cụ ăn xin.');
    expect(stdout).toContain('00:00:03,000 --> 00:00:06,100');
    // No temporary files are left behind.
    expect((await readdir(nasty)).filter((f) => f.startsWith('storyforge-video-') || f.includes('.tmp.'))).toEqual([]);
  });

  it('shows each image while its part is spoken, crossfading at the change', async () => {
    // Inside the coloured band, also of the portrait image (fitted in the middle third).
    const band = { x: 0.42, y: 0.08, w: 0.16, h: 0.15 };
    const boundaries = [...STARTS.map((ms) => Math.round((ms * FPS) / 1000)), (DURATION_MS * FPS) / 1000];
    for (const [i, { rgb }] of COLORS.entries()) {
      // Middle of the image's time, and just after it takes over (past the crossfade).
      for (const frame of [Math.round((boundaries[i]! + boundaries[i + 1]!) / 2), boundaries[i]! + 9]) {
        const { data } = await frames(video, frame, frame + 1, band);
        const mean = meanColor(data);
        expect(mean.map((v, c) => Math.abs(v - rgb[c]!)).every((d) => d < 40), `image ${i} at frame ${frame}: ${mean}`).toBe(true);
      }
    }
    // Halfway through the crossfade from red to green: a blend of the two.
    const { data } = await frames(video, boundaries[1]!, boundaries[1]! + 1, band);
    const [r, g] = meanColor(data);
    expect(r).toBeGreaterThan(80);
    expect(g).toBeGreaterThan(70);
  });

  it('moves the picture smoothly: every frame moves, by about the same amount (no whole-pixel jitter)', async () => {
    // The first image's time alone on screen: frames 10–65. The camera eases in and out, so look at its middle.
    const { data, size } = await frames(video, 20, 56);
    const count = data.length / size;
    const diffs: number[] = [];
    for (let f = 1; f < count; f++) {
      let sum = 0;
      for (let i = f * size; i < (f + 1) * size; i += 3) sum += Math.abs(data[i + 1]! - data[i + 1 - size]!);
      diffs.push(sum / (size / 3));
    }
    const sorted = [...diffs].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    console.log(`frame-to-frame change: min ${sorted[0]!.toFixed(2)}, median ${median.toFixed(2)}, max ${sorted.at(-1)!.toFixed(2)}`);
    expect(median).toBeGreaterThan(0.2);
    // Integer-pixel motion (zoompan) leaves frames that do not move at all, then jumps.
    expect(sorted[0]!).toBeGreaterThan(median * 0.4);
    expect(sorted.at(-1)!).toBeLessThan(median * 2.5);
  });

  it('renders 9:16 with the subtitles burned in with a font that has Vietnamese glyphs', async () => {
    const plain = path.join(nasty, 'plain 9x16.mp4');
    const burned = path.join(nasty, 'burned 9x16.mp4');
    const fontDir = path.join(nasty, "fonts: 'dejavu'");
    await mkdir(fontDir, { recursive: true });
    const font = path.join(fontDir, 'Deja:Vu Sans.ttf');
    await run('cp', [config.video.subtitleFontFile, font]);
    await media.renderVideo(renderOptions({ width: 270, height: 480, outFile: plain, subtitlesFile: undefined }));
    await media.renderVideo(renderOptions({ width: 270, height: 480, outFile: burned, burnIn: { cues, groups: [], style: resolveCaptionStyle(), fontFile: font } }));
    const info = await probe(burned);
    expect(info.streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: 270, height: 480 });
    expect(info.streams.some((s) => s.codec_type === 'subtitle')).toBe(true);
    expect((await probe(plain)).streams.some((s) => s.codec_type === 'subtitle')).toBe(false);

    const frame = 50; // 2 s: the first cue ("… Bắc Kạn …") is on screen.
    // In a 9:16 frame the captions sit 20 % above the bottom edge (clear of the apps' buttons).
    const bottom = { x: 0, y: 0.6, w: 1, h: 0.22 };
    const top = { x: 0, y: 0, w: 1, h: 0.5 };
    const difference = async (region: typeof bottom) => {
      const a = (await frames(plain, frame, frame + 1, region)).data;
      const b = (await frames(burned, frame, frame + 1, region)).data;
      let sum = 0;
      for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
      return sum / a.length;
    };
    const [atBottom, atTop] = [await difference(bottom), await difference(top)];
    console.log(`burned-in subtitles: mean difference ${atBottom.toFixed(2)} at the bottom, ${atTop.toFixed(2)} at the top`);
    expect(atBottom).toBeGreaterThan(3);
    expect(atTop).toBeLessThan(1.5);
  });

  it('burns shorts captions in 9:16 with the spoken word highlighted from its word timing on', async () => {
    const plain = path.join(nasty, 'shorts plain.mp4');
    const burned = path.join(nasty, 'shorts burned.mp4');
    // One group of three words; the second starts at 810 ms (between frames 20 and 21 at 25 fps),
    // the third at 1630 ms (between frames 40 and 41).
    const words = [
      { text: 'Ngày', startMs: 0, endMs: 700 },
      { text: 'xửa', startMs: 810, endMs: 1500 },
      { text: 'ngày.', startMs: 1630, endMs: 2500 },
    ];
    const style = resolveCaptionStyle({ preset: 'shorts', highlightColour: '#FF00FF' });
    const groups = groupWords(words, { durationMs: DURATION_MS });
    expect(groups).toHaveLength(1);
    await media.renderVideo(renderOptions({ width: 270, height: 480, outFile: plain, subtitlesFile: undefined }));
    await media.renderVideo(
      renderOptions({ width: 270, height: 480, outFile: burned, subtitlesFile: undefined, burnIn: { cues, groups, style, fontFile: config.video.subtitleFontFile } }),
    );
    // Below the middle, where card images draw their own text.
    const band = { x: 0, y: 0.55, w: 1, h: 0.3 };
    const width = 270;
    /** Mean x of the pixels drawn magenta (the highlight) in the burned frame only, or NaN. */
    const highlightX = async (frame: number) => {
      const a = (await frames(plain, frame, frame + 1, band)).data;
      const b = (await frames(burned, frame, frame + 1, band)).data;
      const magenta = (d: Buffer, i: number) => d[i]! > 170 && d[i + 1]! < 110 && d[i + 2]! > 170;
      let sum = 0;
      let count = 0;
      for (let i = 0; i < b.length; i += 3) {
        if (magenta(b, i) && !magenta(a, i)) {
          sum += (i / 3) % width;
          count += 1;
        }
      }
      return count > 10 ? sum / count : Number.NaN;
    };
    const [x19, x20, x21, x40, x41] = await Promise.all([19, 20, 21, 40, 41].map(highlightX));
    console.log(`highlight centre x: frames 19 ${x19.toFixed(0)}, 20 ${x20.toFixed(0)}, 21 ${x21.toFixed(0)}, 40 ${x40.toFixed(0)}, 41 ${x41.toFixed(0)}`);
    // The first word stays lit through frame 20 (800 ms); the second from frame 21 (840 ms) on.
    expect(Math.abs(x20 - x19)).toBeLessThan(10);
    expect(x21 - x20).toBeGreaterThan(25);
    expect(x41 - x40).toBeGreaterThan(25);
  });

  it('opens with a title card: the slides, the soft subtitles and the sound start after it, and it clears into the first image', async () => {
    const plain = path.join(nasty, 'no card.mp4');
    const carded = path.join(nasty, 'card: title.mp4');
    // The sound already carries the delay (as the soundtrack does): 1.8 s of silence, then the narration.
    const delayed = path.join(nasty, 'delayed.mp3');
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', `file:${narration}`, '-af', 'adelay=delays=1800:all=1', `file:${delayed}`]);
    await media.renderVideo(renderOptions({ outFile: plain }));
    const result = await media.renderVideo(
      renderOptions({ outFile: carded, narrationFile: delayed, intro: { frames: 45, title: 'Sự tích Hồ Ba Bể', fontFile: config.video.titleFontFile } }),
    );
    expect(result).toMatchObject({ frames: 225 + 45, segments: 2 });
    const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', `file:${carded}`]);
    expect(Number(stdout.trim())).toBe(270);
    expect(Math.abs(Number((await probe(carded)).format.duration) - 10.8)).toBeLessThan(0.1);
    // The first cue, at 0 on the narration, starts at 1.8 s in the video (mov_text fills the time before it with an empty sample).
    const cue = await run('ffprobe', ['-v', 'error', '-select_streams', 's:0', '-show_entries', 'packet=pts_time,size', '-of', 'csv=p=0', `file:${carded}`]);
    const texts = cue.stdout.trim().split('\n').map((line) => line.split(',').map(Number)).filter(([, size]) => size! > 2);
    expect(texts[0]![0]).toBeCloseTo(1.8, 2);
    // Frame 45 + n of the carded video is frame n of the plain one (the card ends on the plain first image).
    for (const n of [0, 30, 120]) {
      const a = (await frames(plain, n, n + 1)).data;
      const b = (await frames(carded, 45 + n, 46 + n)).data;
      let sum = 0;
      for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
      expect(sum / a.length, `frame ${n}`).toBeLessThan(2);
    }
    // On the card the picture is dimmed, with the title in white across its middle.
    const card = (await frames(carded, 30, 31, { x: 0, y: 0.3, w: 1, h: 0.4 })).data;
    const first = (await frames(plain, 0, 1, { x: 0, y: 0.3, w: 1, h: 0.4 })).data;
    let white = 0;
    for (let i = 0; i < card.length; i += 3) if (card[i]! > 220 && card[i + 1]! > 220 && card[i + 2]! > 220) white++;
    expect(white).toBeGreaterThan(200);
    expect(meanColor(card)[1]!).toBeLessThan(meanColor(first)[1]!);
  });

  it('renders in several segments and joins them without a seam', async () => {
    // Fifteen images of 0.6 s: three segments of at most six.
    const many = Array.from({ length: 15 }, (_, i) => images[i % 3]!);
    const out = path.join(nasty, 'segments.mp4');
    const result = await media.renderVideo(
      renderOptions({ images: many, slides: many.map((_, image) => ({ image, startMs: image * 600 })), outFile: out, crossfadeMs: 200 }),
    );
    expect(result).toMatchObject({ slides: 15, segments: 3, frames: 225 });
    const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', `file:${out}`]);
    expect(Number(stdout.trim())).toBe(225);
    expect(Math.abs(Number((await probe(out)).format.duration) - DURATION_MS / 1000)).toBeLessThan(0.1);
  });

  it('fails with ffmpeg’s message when an image cannot be read', async () => {
    const error = await media
      .renderVideo(renderOptions({ images: [path.join(nasty, 'missing.png'), images[1]!, images[2]!], outFile: path.join(nasty, 'never.mp4') }))
      .then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toMatch(/ffmpeg failed.*No such file or directory/s);
    expect((await readdir(nasty)).filter((f) => f.startsWith('never') || f.includes('never.mp4'))).toEqual([]);
  });
});
