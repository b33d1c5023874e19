import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { artifactKeys } from '../../../src/repositories/storage.repository.js';
import { StoryRepository } from '../../../src/repositories/story.repository.js';
import { ExportService } from '../../../src/services/export.service.js';
import { MergeStep } from '../../../src/pipeline/steps/merge.step.js';
import { PackageService } from '../../../src/services/package.service.js';
import { runBatch } from '../../support/batches.js';
import { FakeOpenAiServer } from '../../support/fake-openai-server.js';
import { probeAudio } from '../../support/media-probe.js';
import { localStorageOf, startTestApp, type TestApp } from '../../support/test-app.js';

const run = promisify(execFile);

/** A Vietnamese story with markdown, numbers, a date, a time, units, abbreviations and Ð (U+00D0). */
const STORY = `Ngày Quốc khánh

## Chương 1

**Ngày 2/9/1945**, tại Quảng trường Ba Đình, hơn 1.000.000 người dân đã có mặt. \u00D0ứa trẻ nào cũng vui.

Lúc 7:30 sáng, đoàn người đi bộ 5 km từ TP.HCM. Giá vé là 100.000đ, tăng 50% so với năm ngoái.

* Người thứ 1 đến từ Q.1.
* Người thứ 4 đến lúc 15h45.
`;

/** Entries of a ZIP file: name → uncompressed size. */
function zipEntries(file: string): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const entries = new Map<string, number>();
      zip.on('entry', (entry: yauzl.Entry) => {
        entries.set(entry.fileName, entry.uncompressedSize);
        zip.readEntry();
      });
      zip.on('end', () => resolve(entries));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('subtitles, video and package of a story (fake speech server, real ffmpeg, PostgreSQL, Redis)', () => {
  const server = new FakeOpenAiServer({ speechFormat: 'wav' });
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    const { baseUrl } = await server.start();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-video-pipeline-'));
    t = await startTestApp({
      database: 'postgres',
      env: { SPEECH_SYNTHESIZER: 'openai-compatible', OPENAI_BASE_URL: baseUrl, VIDEO_SCALE: '0.2', VIDEO_CROSSFADE_MS: '400' },
    });
  });
  afterAll(async () => {
    await t?.close();
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('speaks the normalised text, keeps the written form in the subtitles, renders the video and packages it all', async () => {
    const file = path.join(dir, 'vi_quoc_khanh.txt');
    await fs.writeFile(file, STORY);
    const batch = await runBatch(t.app, [file], {
      language: 'vi',
      autoMode: { wordPerChunkAudio: 20, wordPerChunkImage: 30, renderVideo: true, videoPreset: '9:16', burnSubtitles: true },
    });
    expect(batch.status).toBe('completed');
    const stories = t.app.get(StoryRepository);
    const storage = localStorageOf(t.app);
    const story = await stories.getOrThrow(batch.results[0]!.storyId);
    expect([story.mergeStep, story.videoStep]).toEqual(['completed', 'completed']);

    // What the speech engine was sent: the chunks' spoken text, in words, without markdown.
    const audio = await stories.audioChunks(story.id);
    const sent = server.requestsTo('speech').map((r) => String(r.body.input));
    // (Clips are made side by side, so requests arrive in any order.)
    expect([...sent].sort()).toEqual(audio.map((c) => c.spokenText).sort());
    const spoken = sent.join(' ');
    for (const words of [
      'Ngày hai tháng chín năm một nghìn chín trăm bốn mươi lăm',
      'hơn một triệu người dân',
      '\u0110ứa trẻ',
      'bảy giờ ba mươi phút',
      'năm ki-lô-mét từ thành phố Hồ Chí Minh',
      'một trăm nghìn đồng',
      'năm mươi phần trăm',
      'Người thứ nhất đến từ quận một',
      'Người thứ tư đến lúc mười lăm giờ bốn mươi lăm phút',
    ]) {
      expect(spoken).toContain(words);
    }
    expect(spoken).not.toMatch(/[*#\u00D0]|\d/);

    // The subtitles keep the written form (markdown marks removed), in order, inside the narration.
    const srt = await fs.readFile(storage.pathOf(story.subtitlesKey!), 'utf8');
    const vtt = await fs.readFile(storage.pathOf(artifactKeys.subtitles(story.id, 'vtt')), 'utf8');
    // Cue text as a reader sees it, lines joined.
    const shown = (text: string) => text.split('\n').filter((l) => l && !/^\d+$/.test(l) && !l.includes('-->') && l !== 'WEBVTT' && !l.startsWith('Language:')).join(' ');
    for (const written of ['Chương 1', 'Ngày 2/9/1945, tại Quảng trường Ba Đình,', '1.000.000', '\u00D0ứa trẻ', '7:30', '5 km từ TP.HCM.', '100.000đ', '50%']) {
      expect(shown(srt)).toContain(written);
      expect(shown(vtt)).toContain(written);
    }
    expect(srt).not.toMatch(/\*\*|##|một triệu|ki-lô-mét/);
    expect(vtt.startsWith('WEBVTT')).toBe(true);
    const times = [...srt.matchAll(/(\d\d):(\d\d):(\d\d),(\d\d\d) --> (\d\d):(\d\d):(\d\d),(\d\d\d)/g)].map((m) => {
      const ms = (h: string, mi: string, s: string, f: string) => ((Number(h) * 60 + Number(mi)) * 60 + Number(s)) * 1000 + Number(f);
      return [ms(m[1]!, m[2]!, m[3]!, m[4]!), ms(m[5]!, m[6]!, m[7]!, m[8]!)] as const;
    });
    expect(times.length).toBe(story.metadata.subtitles!.cues);
    for (let i = 1; i < times.length; i++) expect(times[i]![0]).toBeGreaterThanOrEqual(times[i - 1]![1]);
    const narration = await probeAudio(storage.pathOf(story.narrationKey!));
    expect(times.at(-1)![1]).toBeLessThanOrEqual(narration.duration * 1000 + 1);
    expect(Math.abs(story.metadata.subtitles!.driftMs)).toBeLessThanOrEqual(50);
    for (const line of srt.split('\n').filter((l) => l && !/^\d+$/.test(l) && !l.includes('-->'))) {
      expect(Array.from(line).length).toBeLessThanOrEqual(42);
    }

    // The video: 9:16 scaled to 216×384, H.264 + AAC + mov_text, as long as the narration.
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', storage.pathOf(story.videoKey!)]);
    const info = JSON.parse(stdout) as { format: { duration: string }; streams: { codec_type: string; codec_name: string; width?: number; height?: number }[] };
    // Besides these, the MP4 carries its chapters (one per image) as a QuickTime text track.
    expect(info.streams.filter((s) => s.codec_type !== 'data').map((s) => [s.codec_type, s.codec_name])).toEqual([
      ['video', 'h264'],
      ['audio', 'aac'],
      ['subtitle', 'mov_text'],
    ]);
    expect(info.streams[0]).toMatchObject({ width: 216, height: 384 });
    expect(Math.abs(Number(info.format.duration) - narration.duration)).toBeLessThan(0.2);
    expect(story.metadata.video).toMatchObject({ preset: '9:16', width: 216, height: 384, burnedSubtitles: true });

    // The package: the same files as the exported folder, streamed into a ZIP.
    const zip = path.join(dir, 'package.zip');
    const packages = t.app.get(PackageService);
    expect(await packages.describe(story.id)).toMatchObject({ fileName: 'vi_quoc_khanh.zip', folder: 'vi_quoc_khanh' });
    const written = await packages.streamPackage(story.id, createWriteStream(zip));
    expect(written.bytes).toBe((await fs.stat(zip)).size);
    const entries = await zipEntries(zip);
    const folder = path.join(dir, 'export');
    await t.app.get(ExportService).exportStory(story, folder, 'vi_quoc_khanh.txt');
    const exported = new Map<string, number>();
    for (const entry of await fs.readdir(folder, { recursive: true, withFileTypes: true })) {
      // (The export's own marker file is not part of the story.)
      if (entry.isFile() && !entry.name.startsWith('.')) {
        const full = path.join(entry.parentPath, entry.name);
        exported.set(`vi_quoc_khanh/${path.relative(folder, full).split(path.sep).join('/')}`, (await fs.stat(full)).size);
      }
    }
    expect(new Map([...entries].sort())).toEqual(new Map([...exported].sort()));
    for (const name of ['story.md', 'story.json', 'images/001.png', 'audio/001.wav', 'narration.mp3', 'subtitles.srt', 'subtitles.vtt', 'subtitles.words.vtt', 'video.mp4', 'thumbnail.jpg']) {
      expect(entries.has(`vi_quoc_khanh/${name}`), name).toBe(true);
    }
    // Neither music nor a title card: the video carries the narration itself, so there is no soundtrack.
    expect(entries.has('vi_quoc_khanh/soundtrack.mp3')).toBe(false);
    expect(entries.get('vi_quoc_khanh/video.mp4')).toBe(await storage.size(story.videoKey!));
    const doc = JSON.parse(await fs.readFile(path.join(folder, 'story.json'), 'utf8'));
    expect(doc.steps).toMatchObject({ merge: 'completed', video: 'completed' });
    expect(doc.subtitles).toMatchObject({ srt: 'subtitles.srt', vtt: 'subtitles.vtt' });
    expect(doc.video).toMatchObject({ file: 'video.mp4', preset: '9:16' });

    expect(doc.thumbnail).toEqual({ file: 'thumbnail.jpg', width: 1080, height: 1920 });
    expect(doc.soundtrack).toBeNull();

    // Merged again from clips without word timings: the earlier word captions go with the old narration.
    for (const chunk of audio) await stories.updateChunk('audio', chunk.id, { words: null });
    await stories.update(story.id, { status: 'processing', mergeStep: 'pending' });
    await t.app.get(MergeStep).run(story.id);
    const merged = await stories.getOrThrow(story.id);
    expect(merged.mergeStep).toBe('completed');
    expect(await storage.exists(artifactKeys.subtitles(story.id, 'srt'))).toBe(true);
    expect(await storage.exists(artifactKeys.wordSubtitles(story.id))).toBe(false);
    const again = path.join(dir, 'export-again');
    await t.app.get(ExportService).exportStory(merged, again, 'vi_quoc_khanh.txt');
    expect((await fs.readdir(again)).includes('subtitles.words.vtt')).toBe(false);

    await expect(packages.streamPackage('00000000-0000-0000-0000-000000000000', createWriteStream(path.join(dir, 'none.zip')))).rejects.toThrow(
      /does not exist/,
    );
  });
});
