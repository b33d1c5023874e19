import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, stopClis } from '../support/cli.js';
import { probeAudio, probeImage } from '../support/media-probe.js';

/** `storyforge run --video` as a user runs it: a separate process, PGlite, Redis, espeak-ng, ffmpeg. */
describe('storyforge run --video', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-cli-video-'));
  });
  afterEach(stopClis);
  afterAll(async () => {
    await stopClis();
    await fs.rm(dir, { recursive: true, force: true });
  });

  // Small frames keep the test quick; the presets' full sizes are measured in bench/.
  const env = () => ({ DATA_DIR: path.join(dir, 'data'), VIDEO_SCALE: '0.2' });

  it('writes the video and the subtitles beside the narration', async () => {
    const story = path.join(dir, "Ho Ba Be: it's short.txt");
    await fs.writeFile(
      story,
      'Hồ Ba Bể\n\nNgày xưa, ở vùng núi Bắc Kạn có một bà cụ ăn xin. Năm ấy có 1.000 người đi hội.\n\n' +
        'Chỉ có hai mẹ con nghèo thương bà, cho bà ăn và ngủ nhờ. Sáng hôm sau, cả vùng đã thành một cái hồ rộng.\n',
    );
    const out = path.join(dir, 'out');
    const result = await runCli(['run', story, '--out', out, '--video-preset', '9:16', '--burn-subtitles', '--words-per-image', '20'], env());
    expect(result.stderr).not.toMatch(/✗/);
    expect(result.code).toBe(0);
    const folder = path.join(out, 'Ho-Ba-Be-it-s-short');
    const files = (await fs.readdir(folder)).filter((f) => !f.startsWith('.')).sort();
    // No music and no title card: the video carries the narration itself, so there is no soundtrack.mp3.
    expect(files).toEqual(['audio', 'images', 'narration.mp3', 'story.json', 'story.md', 'subtitles.srt', 'subtitles.vtt', 'subtitles.words.vtt', 'thumbnail.jpg', 'video.mp4']);
    expect(await probeImage(path.join(folder, 'thumbnail.jpg'))).toMatchObject({ width: 1080, height: 1920 });
    const doc = JSON.parse(await fs.readFile(path.join(folder, 'story.json'), 'utf8'));
    expect(doc.steps).toEqual({ story: 'completed', images: 'completed', audio: 'completed', merge: 'completed', video: 'completed' });
    expect(doc.video).toMatchObject({ file: 'video.mp4', preset: '9:16', width: 216, height: 384 });
    expect(doc.metadata.video.burnedSubtitles).toBe(true);
    // The written form on screen, the spoken form sent to espeak-ng.
    const srt = await fs.readFile(path.join(folder, 'subtitles.srt'), 'utf8');
    expect(srt).toContain('1.000 người');
    expect(doc.audio.map((c: { spokenText: string }) => c.spokenText).join(' ')).toContain('một nghìn người');
    const narration = await probeAudio(path.join(folder, 'narration.mp3'));
    const video = await probeAudio(path.join(folder, 'video.mp4'));
    expect(video.codec).toBe('aac');
    expect(Math.abs(video.duration - narration.duration)).toBeLessThan(0.5);
  }, 240_000); // a storyforge process on the embedded database, which opens slowly on a busy machine

  it('refuses --video without the images or the narration it needs (exit 2)', async () => {
    const story = path.join(dir, 'short.txt');
    await fs.writeFile(story, 'Title\n\nA short story.\n');
    const result = await runCli(['run', story, '--out', path.join(dir, 'out-refused'), '--video', '--no-merge'], env());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--video needs the images and the merged narration');
    const notMusic = await runCli(['run', story, '--out', path.join(dir, 'out-music'), '--music', story], env());
    expect(notMusic.code).toBe(2);
    expect(notMusic.stderr).toContain('--music: "short.txt" is not an audio file ffmpeg can read; send an MP3, WAV, OGG or M4A audio file');
    const levelsAlone = await runCli(['run', story, '--music-volume', '-10'], env());
    expect(levelsAlone.code).toBe(2);
    expect(levelsAlone.stderr).toContain('give the music file too');
    const bad = await runCli(['run', story, '--video-preset', '4:3'], env());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/16:9.*9:16/);
  });
});
