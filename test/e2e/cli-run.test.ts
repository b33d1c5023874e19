import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { normalizeText } from '../../src/text/normalize.js';
import { runCli, stopClis } from '../support/cli.js';
import { probeAudio, probeImage } from '../support/media-probe.js';
import { sample, shortSample } from '../support/samples.js';

/** `storyforge run` as a user runs it: a separate process, embedded PGlite, real Redis, ffmpeg, espeak-ng. */
describe('storyforge run', () => {
  let dir: string;
  let test = 0;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-cli-'));
  });
  // Each test has its own embedded database: one that failed or timed out with its run still
  // holding its data directory cannot make the next test fail with "data directory … is in use".
  beforeEach(() => {
    test += 1;
  });
  afterEach(stopClis);
  afterAll(async () => {
    await stopClis();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const env = () => ({ DATA_DIR: path.join(dir, `data-${test}`), LOG_LEVEL: 'info' });

  it('writes a folder per story with the text, images, clips and narration, and exits 0', async () => {
    const out = path.join(dir, 'out');
    // The Vietnamese sample's title and first sentences: a short input keeps the run quick on a busy machine.
    const viStory = await shortSample('stories/vi/vi_su_tich_cay_thi_la.txt', dir);
    const files = [
      viStory,
      sample('docs/mammoth_tables.docx'),
      sample('docs/nwe_test05_word97.doc'),
    ];
    const result = await runCli(['run', ...files, '--out', out, '--words-per-image', '80'], env());
    expect(result.stderr).not.toMatch(/✗/);
    // No runtime warnings either (a leaked listener, a deprecation): the user sees stderr.
    expect(result.stderr).not.toMatch(/Warning/);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Outputs in ${out}`);

    const folders = (await fs.readdir(out, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    expect(folders).toEqual(['mammoth_tables', 'nwe_test05_word97', 'vi_su_tich_cay_thi_la']);

    // The Vietnamese story keeps the file's text (NFC), not mojibake, and is spoken in Vietnamese.
    const storyMd = await fs.readFile(path.join(out, 'vi_su_tich_cay_thi_la', 'story.md'), 'utf8');
    const source = normalizeText(await fs.readFile(files[0]!, 'utf8'));
    expect(storyMd).toBe(`# Sự tích cây thì là\n\n${source.split('\n').slice(2).join('\n')}\n`);
    const doc = JSON.parse(await fs.readFile(path.join(out, 'vi_su_tich_cay_thi_la', 'story.json'), 'utf8'));
    expect(doc).toMatchObject({ title: 'Sự tích cây thì là', language: 'vi', status: 'completed', sourceFile: 'vi_su_tich_cay_thi_la.txt' });
    expect(doc.steps).toEqual({ story: 'completed', images: 'completed', audio: 'completed', merge: 'completed', video: 'skipped' });
    expect(doc.audio.every((c: { voice: string; durationMs: number }) => c.voice === 'vi' && c.durationMs > 0)).toBe(true);
    expect(doc.metadata.providers.story).toEqual({ provider: 'source', model: 'source' });

    for (const folder of folders) {
      const story = JSON.parse(await fs.readFile(path.join(out, folder, 'story.json'), 'utf8'));
      const images = await fs.readdir(path.join(out, folder, 'images'));
      const clips = await fs.readdir(path.join(out, folder, 'audio'));
      expect(images).toEqual(story.images.map((c: { file: string }) => path.basename(c.file)));
      expect(clips).toEqual(story.audio.map((c: { file: string }) => path.basename(c.file)));
      expect(await probeImage(path.join(out, folder, 'images', images[0]!))).toMatchObject({ width: 1280, height: 720 });
      const narration = await probeAudio(path.join(out, folder, 'narration.mp3'));
      const clipSum = story.audio.reduce((sum: number, c: { durationMs: number }) => sum + c.durationMs, 0) / 1000;
      expect(narration.duration).toBeGreaterThanOrEqual(clipSum * 0.98);
    }
    // The Word documents' text is the story.
    const tables = await fs.readFile(path.join(out, 'mammoth_tables', 'story.md'), 'utf8');
    expect(tables).toContain('Top left');
    expect(tables).toContain('Bottom right');

    const batch = JSON.parse(await fs.readFile(path.join(out, 'batch.json'), 'utf8'));
    expect(batch).toMatchObject({ status: 'completed', totalFiles: 3, processedFiles: 3, failedFiles: 0 });
    expect(batch.batches[0].results.map((r: { folder: string }) => r.folder)).toEqual([
      'vi_su_tich_cay_thi_la',
      'mammoth_tables',
      'nwe_test05_word97',
    ]);
  }, 240_000); // a storyforge process on the embedded database, which opens slowly on a busy machine

  it('reports an unreadable file by name, goes on with the others, and exits 1', async () => {
    const out = path.join(dir, 'out-mixed');
    const fake = path.join(dir, 'picture.txt');
    await fs.writeFile(fake, Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
    // A short story: what is checked is that it is made despite the unreadable file beside it.
    const story = await shortSample('stories/vi/vi_thanh_giong.txt', dir);
    const result = await runCli(['run', fake, story, '--out', out, '--no-images'], env());
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('picture.txt');
    const batch = JSON.parse(await fs.readFile(path.join(out, 'batch.json'), 'utf8'));
    expect(batch.unreadableFiles).toEqual([expect.objectContaining({ file: fake, code: 'binary-content' })]);
    expect(batch.processedFiles).toBe(1);
    await expect(fs.access(path.join(out, 'vi_thanh_giong', 'narration.mp3'))).resolves.toBeUndefined();
    await expect(fs.access(path.join(out, 'vi_thanh_giong', 'images'))).rejects.toThrow();
  }, 240_000); // a storyforge process on the embedded database, which opens slowly on a busy machine

  it('exits 2 when nothing can be read or the command is wrong', async () => {
    const empty = path.join(dir, 'empty.txt');
    await fs.writeFile(empty, '');
    const unreadable = await runCli(['run', empty, '--out', path.join(dir, 'out-empty')], env());
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toContain('empty.txt');

    const missing = await runCli(['run', path.join(dir, 'nope.txt')], env());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.txt: no such file or folder');

    const badOption = await runCli(['run', empty, '--words-per-image', 'many'], env());
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain('must be a whole number');

    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
