import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type StartedCli, startCli, stopClis } from '../support/cli.js';
import { ApiClient, connectSocket, type ReceivedEvent, type RecordingSocket, removeRedisKeys } from '../support/http-app.js';
import { probeAudio, probeImage, probeVideo } from '../support/media-probe.js';
import { sampleBytes } from '../support/samples.js';
import { createTestDatabase, waitFor } from '../support/test-app.js';

const run = promisify(execFile);

/** The events of a room after the join's snapshot, checked to be numbered seq+1, seq+2 … without gaps. */
function afterSnapshot(socket: RecordingSocket, room: string, snapshotSeq: number): ReceivedEvent[] {
  const events = socket.inRoom(room).filter((e) => e.data.seq > snapshotSeq);
  expect(events.map((e) => e.data.seq), `sequence numbers of ${room}`).toEqual(events.map((_, i) => snapshotSeq + 1 + i));
  return events;
}

const SAMPLES = ['stories/vi/vi_su_tich_cay_thi_la.txt', 'docs/nwe_test04_unicode_headers.doc', 'docs/mammoth_tables.docx'];

describe('the HTTP API and Socket.IO with `serve --no-workers` and two `worker` processes', () => {
  const prefix = `sftest-e2e-${randomBytes(4).toString('hex')}`;
  let dir: string;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const processes: StartedCli[] = [];
  let api: ApiClient;
  let baseUrl: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-api-e2e-'));
    database = await createTestDatabase();
    const port = await freePort();
    const env = { DATABASE_URL: database.url, QUEUE_PREFIX: prefix, DATA_DIR: dir, LOG_LEVEL: 'warn', JOB_BACKOFF_MS: '200', VIDEO_SCALE: '0.25' };
    // The API has no workers: every room event below comes from a worker process through Redis.
    processes.push(startCli(['serve', '--no-workers', '--port', String(port)], env));
    processes.push(startCli(['worker'], env), startCli(['worker'], env));
    baseUrl = `http://127.0.0.1:${port}`;
    api = new ApiClient(baseUrl);
    await waitFor(
      async () => {
        try {
          return (await fetch(`${baseUrl}/health`)).ok ? true : undefined;
        } catch {
          return undefined;
        }
      },
      60_000,
      'serve to answer',
    );
  }, 90_000);

  afterAll(async () => {
    // SIGTERM, then SIGKILL for one that does not end: the database and Redis keys go in any case.
    await stopClis();
    const codes = await Promise.all(processes.map((p) => p.exited));
    for (const p of processes) if (!['SIGTERM', 0].includes(await p.exited)) console.error(p.output());
    await removeRedisKeys('redis://127.0.0.1:6379', prefix);
    await database?.drop();
    await fs.rm(dir, { recursive: true, force: true });
    expect(codes.length).toBe(3);
  }, 60_000);

  it('uploads three files, runs a batch in auto mode with every event in order, and serves a narration ffprobe decodes', async () => {
    const { token } = await api.register('e2e@example.com');
    const uploaded = await api.uploadFiles(
      token,
      SAMPLES.map((name) => ({ name: path.basename(name), bytes: sampleBytes(name) })),
    );
    expect(uploaded.status).toBe(201);
    expect(uploaded.body.files.map((f: { name: string; format: string }) => [f.name, f.format])).toEqual([
      ['vi_su_tich_cay_thi_la.txt', 'txt'],
      ['nwe_test04_unicode_headers.doc', 'doc'],
      ['mammoth_tables.docx', 'docx'],
    ]);
    expect(uploaded.body.files.every((f: { wordCount: number; size: number }) => f.wordCount > 0 && f.size > 0)).toBe(true);

    // An early client is connected before the batch starts and joins as soon as the ids are known.
    const early = await connectSocket(baseUrl, token);
    const created = await api.post('/stories/batch-create', {
      token,
      json: {
        fileIds: uploaded.body.files.slice(0, 2).map((f: { id: string }) => f.id),
        fileUrls: [uploaded.body.files[2].url],
        style: { genre: 'folk tale', tone: 'warm', length: 'short', targetAudience: 'children' },
        autoMode: { enabled: true, generateImages: true, generateAudio: true, mergeAudio: true, wordPerChunkImage: 120, wordPerChunkAudio: 60 },
      },
    });
    expect(created.status).toBe(202);
    const { batchId, stories } = created.body as { batchId: string; stories: { id: string; room: string }[] };
    expect(stories).toHaveLength(3);
    const batchJoin = await early.call('join-batch', { batchId });
    expect(batchJoin.room).toBe(`batch-${batchId}`);
    expect(batchJoin.batch.id).toBe(batchId);
    const storyJoins = await Promise.all(stories.map((s) => early.call('join-story', { storyId: s.id })));
    for (const [i, join] of storyJoins.entries()) expect(join.story.id).toBe(stories[i]!.id);

    const complete = await waitFor(
      async () => early.events.find((e) => e.event === 'batch-stories-complete'),
      180_000,
      'batch-stories-complete',
    );
    // Story rooms end with auto-mode-complete; give the last ones a moment to arrive.
    await waitFor(async () => (stories.every((s) => early.inRoom(s.room).some((e) => e.event === 'auto-mode-complete')) ? true : undefined), 20_000, 'auto-mode-complete of every story');
    expect(complete.data).toMatchObject({ batchId, status: 'completed', totalFiles: 3, processedFiles: 3, failedFiles: 0, progress: { percentage: 100 } });

    // Batch room: no gaps; start (unless it came before the join) before any progress; complete once, last.
    const batchEvents = afterSnapshot(early, batchJoin.room, batchJoin.seq);
    const names = batchEvents.map((e) => e.event);
    expect(new Set(names).size).toBeLessThanOrEqual(3);
    expect(names.every((n) => ['batch-stories-start', 'batch-stories-progress', 'batch-stories-complete'].includes(n))).toBe(true);
    if (batchJoin.seq === 0) expect(names[0]).toBe('batch-stories-start');
    expect(names.filter((n) => n === 'batch-stories-start').length).toBe(batchJoin.seq === 0 ? 1 : 0);
    expect(names.filter((n) => n === 'batch-stories-complete')).toHaveLength(1);
    expect(names.at(-1)).toBe('batch-stories-complete');
    const percentages = batchEvents.map((e) => e.data.progress?.percentage).filter((p) => p !== undefined);
    expect(percentages).toEqual([...percentages].sort((x, y) => x - y));

    // Story rooms: no gaps; auto-mode-start first (when joined before it), complete once and last;
    // every step is either done in the snapshot or announced done afterwards.
    for (const [i, story] of stories.entries()) {
      const join = storyJoins[i]!;
      const events = afterSnapshot(early, story.room, join.seq);
      const kinds = events.map((e) => e.event);
      expect(kinds.every((k) => ['auto-mode-start', 'auto-mode-progress', 'auto-mode-complete', 'story-step'].includes(k))).toBe(true);
      if (join.seq === 0) expect(kinds[0]).toBe('auto-mode-start');
      expect(kinds.filter((k) => k === 'auto-mode-complete')).toHaveLength(1);
      expect(kinds.at(-1)).toBe('auto-mode-complete');
      expect(kinds).not.toContain('auto-mode-error');
      for (const step of ['story', 'images', 'audio', 'merge']) {
        const done = join.story.steps[step] === 'completed' || events.some((e) => e.event === 'story-step' && e.data.step === step && e.data.state === 'done');
        expect(done, `${story.room}: ${step} done`).toBe(true);
      }
      const progress = events.filter((e) => e.event === 'auto-mode-progress').map((e) => e.data.percentage);
      expect(progress).toEqual([...progress].sort((x, y) => x - y));
      expect(events.at(-1)!.data).toMatchObject({ storyId: story.id, batchId, status: 'completed', percentage: 100 });
    }

    // Nothing was published to these rooms that the client did not get.
    const redis = new Redis('redis://127.0.0.1:6379');
    try {
      // Keys live under QUEUE_PREFIX:<installation id> (the database's own identity).
      const seqKeys = await redis.keys(`${prefix}:*:live:seq:batch-${batchId}`);
      expect(seqKeys).toHaveLength(1);
      expect(Number(await redis.get(seqKeys[0]!))).toBe(batchEvents.at(-1)!.data.seq);
    } finally {
      redis.disconnect();
    }

    // A client joining after the end gets the final state in the snapshot, and the room's last number.
    const late = await connectSocket(baseUrl, token);
    const lateJoin = await late.call('join-batch', { batchId });
    expect(lateJoin.seq).toBe(batchEvents.at(-1)!.data.seq);
    expect(lateJoin.batch).toMatchObject({ status: 'completed', processedFiles: 3, failedFiles: 0, progress: { percentage: 100 } });
    expect(lateJoin.batch.stories.map((s: { status: string; percentage: number }) => [s.status, s.percentage])).toEqual([
      ['completed', 100],
      ['completed', 100],
      ['completed', 100],
    ]);
    const lateStory = await late.call('join-story', { storyId: stories[0]!.id });
    expect(lateStory.story).toMatchObject({ status: 'completed', title: 'Sự tích cây thì là', language: 'vi' });
    late.close();
    early.close();

    // The narration, over HTTP: a whole MP3 that ffprobe decodes, and a byte range of it.
    const narrationUrl = lateJoin.batch.stories[0].narrationUrl as string;
    const narration = await api.get(narrationUrl, { token });
    expect(narration.status).toBe(200);
    expect(narration.headers.get('content-type')).toBe('audio/mpeg');
    const file = path.join(dir, 'downloaded.mp3');
    await fs.writeFile(file, narration.bytes);
    const probed = await probeAudio(file);
    expect(probed.codec).toBe('mp3');
    expect(probed.duration).toBeGreaterThan(10);
    const range = await api.get(narrationUrl, { token, headers: { range: 'bytes=100-1099' } });
    expect(range.status).toBe(206);
    expect(range.headers.get('content-range')).toBe(`bytes 100-1099/${narration.bytes.length}`);
    expect(range.bytes.equals(narration.bytes.subarray(100, 1100))).toBe(true);
  }, 240_000);

  it('renders a 9:16 video with burned subtitles asked for through batch-create, and serves it with the subtitles and the package', async () => {
    const { token } = await api.register('video@example.com');
    const text = 'The Paper Boat\n\nA girl folded a paper boat and set it on the river. It sailed past the mill and the bridge.\n\nAt the sea a gull carried it home to her.';
    const uploaded = await api.uploadFiles(token, [{ name: 'paper-boat.txt', bytes: Buffer.from(text) }]);
    expect(uploaded.status).toBe(201);
    const fileIds = [uploaded.body.files[0].id as string];

    // The video needs the images and the merged narration: switching one off is refused before anything is stored.
    const refused = await api.post('/stories/batch-create', { token, json: { fileIds, autoMode: { renderVideo: true, mergeAudio: false } } });
    expect(refused.status).toBe(400);
    expect(refused.body.errors.map((e: { field: string }) => e.field)).toEqual(['autoMode.mergeAudio']);
    expect((await api.get('/stories', { token })).body.total).toBe(0);

    // Background music, uploaded like a story file and checked by its content.
    const tone = path.join(dir, 'theme.wav');
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=523:duration=2', tone]);
    const music = await api.uploadFiles(token, [{ name: 'theme.wav', bytes: await fs.readFile(tone) }], 'file', '/file-upload/music');
    expect([music.status, music.body.format]).toEqual([201, 'wav']);

    const created = await api.post('/stories/batch-create', {
      token,
      json: {
        fileIds,
        language: 'en',
        autoMode: {
          renderVideo: true,
          videoPreset: '9:16',
          burnSubtitles: true,
          wordPerChunkImage: 20,
          wordPerChunkAudio: 15,
          titleCard: true,
          music: { fileId: music.body.id, volumeDb: -16 },
        },
      },
    });
    expect(created.status).toBe(202);
    const storyId = created.body.stories[0].id as string;
    const story = await waitFor(
      async () => {
        const s = (await api.get(`/stories/${storyId}`, { token })).body;
        return ['completed', 'failed'].includes(s.status) ? s : undefined;
      },
      180_000,
      'the video story to settle',
    );
    expect(story).toMatchObject({
      status: 'completed',
      steps: { video: 'completed' },
      autoMode: { renderVideo: true, videoPreset: '9:16', burnSubtitles: true },
      videoUrl: `/stories/${storyId}/video`,
      soundtrackUrl: `/stories/${storyId}/soundtrack`,
      thumbnailUrl: `/stories/${storyId}/thumbnail.jpg`,
      subtitlesSrtUrl: `/stories/${storyId}/subtitles.srt`,
      subtitlesVttUrl: `/stories/${storyId}/subtitles.vtt`,
      packageUrl: `/stories/${storyId}/package`,
    });

    const video = await api.get(story.videoUrl, { token });
    expect(video.status).toBe(200);
    expect(video.headers.get('content-type')).toBe('video/mp4');
    const file = path.join(dir, 'downloaded.mp4');
    await fs.writeFile(file, video.bytes);
    const frame = await probeVideo(file);
    expect(frame.codec).toBe('h264');
    // 1080×1920 at VIDEO_SCALE 0.25: portrait.
    expect([frame.width, frame.height]).toEqual([270, 480]);

    // The video's sound (title card, then the narration over the music) and the thumbnail.
    const soundtrack = await api.get(story.soundtrackUrl, { token });
    expect([soundtrack.status, soundtrack.headers.get('content-type')]).toEqual([200, 'audio/mpeg']);
    const soundtrackFile = path.join(dir, 'soundtrack.mp3');
    await fs.writeFile(soundtrackFile, soundtrack.bytes);
    expect((await probeAudio(soundtrackFile)).duration).toBeCloseTo((await probeAudio(file)).duration, 0);
    const thumbnail = await api.get(story.thumbnailUrl, { token });
    expect([thumbnail.status, thumbnail.headers.get('content-type')]).toEqual([200, 'image/jpeg']);
    const thumbnailFile = path.join(dir, 'thumbnail.jpg');
    await fs.writeFile(thumbnailFile, thumbnail.bytes);
    expect(await probeImage(thumbnailFile)).toMatchObject({ width: 1080, height: 1920 });

    const srt = await api.get(story.subtitlesSrtUrl, { token });
    expect(srt.status).toBe(200);
    expect(srt.body).toMatch(/^1\r?\n00:00:00,000 --> /);
    const vtt = await api.get(story.subtitlesVttUrl, { token });
    expect(vtt.status).toBe(200);
    expect(vtt.body).toMatch(/^WEBVTT/);
    const pkg = await api.get(story.packageUrl, { token });
    expect(pkg.status).toBe(200);
    expect(pkg.headers.get('content-type')).toBe('application/zip');
    for (const name of ['video.mp4', 'soundtrack.mp3', 'thumbnail.jpg']) expect(pkg.bytes.includes(Buffer.from(name)), name).toBe(true);
  }, 240_000);
});
