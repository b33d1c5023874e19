import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3StorageRepository } from '../../src/repositories/s3-storage.repository.js';
import { artifactKeys } from '../../src/repositories/storage.repository.js';
import { freePort, type StartedCli, startCli, stopClis } from '../support/cli.js';
import { ApiClient, removeRedisKeys } from '../support/http-app.js';
import { probeAudio, probeVideo } from '../support/media-probe.js';
import { S3_TEST_CREDENTIALS, startS3Server, type TestS3Server } from '../support/s3-server.js';
import { createTestDatabase, waitFor } from '../support/test-app.js';

/**
 * No shared disk: the API and two workers each have their own DATA_DIR, and every upload and
 * artifact goes through a bucket on a local S3-protocol server.
 */
describe('`serve --no-workers` and two `worker` processes with separate DATA_DIRs on S3 storage', () => {
  const prefix = `sftest-s3-${randomBytes(4).toString('hex')}`;
  const dirs: Record<'api' | 'worker1' | 'worker2' | 'downloads', string> = { api: '', worker1: '', worker2: '', downloads: '' };
  let s3: TestS3Server;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const processes: StartedCli[] = [];
  let api: ApiClient;

  beforeAll(async () => {
    for (const name of Object.keys(dirs) as (keyof typeof dirs)[]) dirs[name] = await fs.mkdtemp(path.join(os.tmpdir(), `storyforge-s3-${name}-`));
    s3 = await startS3Server();
    database = await createTestDatabase();
    const port = await freePort();
    const env = { ...s3.env, DATABASE_URL: database.url, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn', JOB_BACKOFF_MS: '200', VIDEO_SCALE: '0.25', METRICS_PORT: '0' };
    processes.push(startCli(['serve', '--no-workers', '--port', String(port)], { ...env, DATA_DIR: dirs.api }));
    processes.push(startCli(['worker'], { ...env, DATA_DIR: dirs.worker1 }), startCli(['worker'], { ...env, DATA_DIR: dirs.worker2 }));
    api = new ApiClient(`http://127.0.0.1:${port}`);
    await waitFor(
      async () => {
        try {
          return (await fetch(`http://127.0.0.1:${port}/ready`)).ok ? true : undefined;
        } catch {
          return undefined;
        }
      },
      60_000,
      'serve to be ready',
    );
  }, 90_000);

  afterAll(async () => {
    await stopClis();
    for (const p of processes) if (!['SIGTERM', 0].includes(await p.exited)) console.error(p.output());
    await removeRedisKeys('redis://127.0.0.1:6379', prefix);
    await database?.drop();
    await s3?.close();
    for (const dir of Object.values(dirs)) if (dir) await fs.rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('runs a story to a video through the bucket and serves its files, ranges and package from it', async () => {
    const { token } = await api.register('s3@example.com');
    const text = 'The Paper Boat\n\nA girl folded a paper boat and set it on the river. It sailed past the mill and the bridge.\n\nAt the sea a gull carried it home to her.';
    const uploaded = await api.uploadFiles(token, [{ name: 'paper-boat.txt', bytes: Buffer.from(text) }]);
    expect(uploaded.status).toBe(201);
    const original = await api.get(uploaded.body.files[0].url, { token });
    expect([original.status, original.body]).toEqual([200, text]);

    const created = await api.post('/stories/batch-create', {
      token,
      json: { fileIds: [uploaded.body.files[0].id], language: 'en', autoMode: { renderVideo: true, wordPerChunkImage: 20, wordPerChunkAudio: 15 } },
    });
    expect(created.status).toBe(202);
    const storyId = created.body.stories[0].id as string;
    const story = await waitFor(
      async () => {
        const s = (await api.get(`/stories/${storyId}`, { token })).body;
        return ['completed', 'failed'].includes(s.status) ? s : undefined;
      },
      180_000,
      'the story to settle',
    );
    expect(story).toMatchObject({ status: 'completed', steps: { story: 'completed', images: 'completed', audio: 'completed', merge: 'completed', video: 'completed' } });

    // Every artifact is in the bucket; no process kept one on its own disk.
    Object.assign(process.env, S3_TEST_CREDENTIALS);
    const bucket = new S3StorageRepository({ bucket: s3.bucket, endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, prefix: '', presignedDownloads: false, presignedTtlS: 60 });
    try {
      expect(await bucket.exists(artifactKeys.narration(storyId))).toBe(true);
      expect(await bucket.exists(artifactKeys.video(storyId))).toBe(true);
      expect((await bucket.list(artifactKeys.imagesFolder(storyId))).length).toBeGreaterThan(1);
      expect((await bucket.list(artifactKeys.audioFolder(storyId))).length).toBeGreaterThan(1);
    } finally {
      bucket.destroy();
    }
    for (const dir of [dirs.api, dirs.worker1, dirs.worker2]) await expect(fs.access(path.join(dir, 'files'))).rejects.toThrow();

    // Downloads stream from the bucket: a whole narration ffprobe decodes, a byte range, a 304.
    const narration = await api.get(story.narrationUrl, { token });
    expect([narration.status, narration.headers.get('content-type')]).toEqual([200, 'audio/mpeg']);
    const narrationFile = path.join(dirs.downloads, 'narration.mp3');
    await fs.writeFile(narrationFile, narration.bytes);
    expect((await probeAudio(narrationFile)).duration).toBeGreaterThan(3);
    const range = await api.get(story.narrationUrl, { token, headers: { range: 'bytes=100-1099' } });
    expect(range.status).toBe(206);
    expect(range.headers.get('content-range')).toBe(`bytes 100-1099/${narration.bytes.length}`);
    expect(range.bytes.equals(narration.bytes.subarray(100, 1100))).toBe(true);
    const unchanged = await api.get(story.narrationUrl, { token, headers: { 'if-none-match': narration.headers.get('etag')! } });
    expect(unchanged.status).toBe(304);
    const outside = await api.get(story.narrationUrl, { token, headers: { range: `bytes=${narration.bytes.length + 10}-` } });
    expect(outside.status).toBe(416);

    const video = await api.get(story.videoUrl, { token });
    expect([video.status, video.headers.get('content-type')]).toEqual([200, 'video/mp4']);
    const videoFile = path.join(dirs.downloads, 'video.mp4');
    await fs.writeFile(videoFile, video.bytes);
    expect(await probeVideo(videoFile)).toMatchObject({ codec: 'h264', width: 480, height: 270 });

    const images = await api.get(`/stories/${storyId}/images.zip`, { token });
    expect([images.status, images.headers.get('content-type')]).toEqual([200, 'application/zip']);
    expect(images.bytes.includes(Buffer.from('images/001.'))).toBe(true);
    const pkg = await api.get(story.packageUrl, { token });
    expect([pkg.status, pkg.headers.get('content-type')]).toEqual([200, 'application/zip']);
    for (const name of ['story.json', 'narration.mp3', 'video.mp4', 'subtitles.srt']) expect(pkg.bytes.includes(Buffer.from(name)), name).toBe(true);
    expect(pkg.bytes.length).toBeGreaterThan(video.bytes.length); // the video's bytes are in it, not only its name
    // The S3 SDK's notice about future Node versions is not printed by any process.
    for (const p of processes) expect(p.stderr()).not.toContain('NodeVersionSupportWarning');
  }, 240_000);
});
