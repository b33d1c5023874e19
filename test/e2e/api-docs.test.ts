import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpTestApp, startHttpTestApp } from '../support/http-app.js';
import { probeAudio, probeVideo } from '../support/media-probe.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

/** The ```bash blocks of a Markdown file, in order. */
async function bashBlocks(file: string): Promise<string[]> {
  const text = await fs.readFile(file, 'utf8');
  return [...text.matchAll(/^```bash\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

describe('docs/api.md runs as written', () => {
  let t: HttpTestApp;
  let dir: string;

  beforeAll(async () => {
    // Small, fast video settings: what is checked is that the commands work, not the picture.
    t = await startHttpTestApp({ env: { VIDEO_SCALE: '0.25', VIDEO_FPS: '10', VIDEO_PRESET: 'ultrafast' } });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-docs-'));
    await fs.symlink(path.join(ROOT, 'examples'), path.join(dir, 'examples'));
  });
  afterAll(async () => {
    await t?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('its bash walkthrough makes a story with a 9:16 video and downloads every file', async () => {
    const blocks = await bashBlocks(path.join(ROOT, 'docs/api.md'));
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    const script = blocks.join('\n');
    expect(script).not.toMatch(/uuidgen|…/);
    const { stdout } = await run('bash', ['-c', script], { cwd: dir, env: { ...process.env, SF: t.baseUrl }, timeout: 270_000 });
    expect(stdout).toMatch(/^completed$/m);
    // The operations block: ready, the request id echoed, image step metrics, the dashboard refused.
    expect(stdout).toMatch(/^ready$/m);
    expect(stdout).toMatch(/^x-request-id: walkthrough-1\r?$/im);
    expect(stdout).toMatch(/^[1-9]\d*$/m);
    expect(stdout).toMatch(/^401\n403$/m);
    const narration = await probeAudio(path.join(dir, 'narration.mp3'));
    expect(narration.duration).toBeGreaterThan(10);
    const video = await probeVideo(path.join(dir, 'video.mp4'));
    expect(video.width).toBeLessThan(video.height);
    expect(await fs.readFile(path.join(dir, 'subtitles.srt'), 'utf8')).toMatch(/^1\r?\n00:00:00,000 --> /);
    expect(await fs.readFile(path.join(dir, 'subtitles.vtt'), 'utf8')).toMatch(/^WEBVTT/);
    expect((await fs.readFile(path.join(dir, 'story.zip'))).subarray(0, 2).toString()).toBe('PK');
  }, 300_000);
});
