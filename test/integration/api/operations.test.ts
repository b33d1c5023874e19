import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAMES } from '../../../src/repositories/job-catalog.js';
import { QueueRepository } from '../../../src/repositories/queue.repository.js';
import { AccountService } from '../../../src/services/account.service.js';
import { StoryRepository } from '../../../src/repositories/story.repository.js';
import { startMetricsServer } from '../../../src/app/metrics-server.js';
import { ReadinessService } from '../../../src/services/readiness.service.js';
import { runBatch } from '../../support/batches.js';
import { FakeOpenAiServer } from '../../support/fake-openai-server.js';
import { type HttpTestApp, startHttpTestApp } from '../../support/http-app.js';

/** A key the fake vendor requires; it echoes it back in one error, as some servers do. */
const API_KEY = 'sk-ops-test-0123456789abcdef';
const PASSWORD = 'operator horse battery staple';
const METRICS_TOKEN = 'metrics-token-for-the-test-0123';

/** A series' key: its name and its labels sorted by name. */
const seriesKey = (name: string, labels: Record<string, string>) =>
  `${name}{${Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;

/** The `name{labels} value` lines of a Prometheus text answer, by {@link seriesKey}. */
function samples(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{([^}]*)\})? ([0-9.eE+-]+|NaN)$/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    series.set(seriesKey(match[1]!, labels), Number(match[3]));
  }
  return series;
}

/** The value of one series; 0 when absent. */
const value = (series: Map<string, number>, name: string, labels: Record<string, string>) => series.get(seriesKey(name, labels)) ?? 0;

describe('running it for a team: metrics and logs of a real batch', () => {
  const server = new FakeOpenAiServer({ apiKey: API_KEY, speechFormat: 'wav' });
  const logLines: string[] = [];
  let t: HttpTestApp;
  let dir: string;
  /** A short story (about 130 words): its narration stays short, so the batch takes seconds. */
  let shortStory: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-ops-'));
    shortStory = path.join(dir, 'the_lantern.txt');
    const sentences = [
      'The <b>Lantern</b> Keeper <img src=x onerror=alert(1)>',
      'Every evening the old keeper climbed the hill with a small lantern in his hand.',
      'The village children watched him from their windows and wondered where he went.',
      'One night a girl named Mai followed him through the tall grass and the cold wind.',
      'At the top she found a stone tower with a thousand lanterns waiting to be lit.',
      'The keeper smiled and gave her a match, and together they lit them one by one.',
      'Light spilled down the hill and over the roofs, and the ships at sea turned home.',
      'From that night on Mai climbed the hill too, and the keeper taught her every lantern by name.',
      'When he grew too old to climb, she carried his lantern for him, and the village never sat in the dark again.',
    ];
    await fs.writeFile(shortStory, `${sentences[0]}\n\n${sentences.slice(1).join(' ')}\n`);
    const { baseUrl } = await server.start();
    t = await startHttpTestApp({
      logLines,
      env: {
        LOG_LEVEL: 'info',
        METRICS_TOKEN,
        STORY_WRITER: 'openai-compatible',
        IMAGE_GENERATOR: 'openai-compatible',
        SPEECH_SYNTHESIZER: 'openai-compatible',
        OPENAI_BASE_URL: baseUrl,
        OPENAI_API_KEY: API_KEY,
        OPENAI_CHAT_MODEL: 'fake-writer',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await server.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('counts every chunk in the step histograms and a provider error by its status', async () => {
    // The first image call fails with a 500; the job is tried again and the batch completes.
    server.setFaultInjector((_request, { route, index }) =>
      route === 'images' && index === 0 ? { kind: 'error', status: 500, message: 'upstream overloaded' } : undefined,
    );
    const batch = await runBatch(t.app, [shortStory], { autoMode: { wordPerChunkImage: 40, wordPerChunkAudio: 40 } });
    server.setFaultInjector(undefined);
    expect(batch.status).toBe('completed');
    const stories = t.app.get(StoryRepository);
    const storyId = batch.results[0]!.storyId;
    const imageChunks = (await stories.imageChunks(storyId)).length;
    const audioChunks = (await stories.audioChunks(storyId)).length;
    expect(imageChunks).toBeGreaterThan(1);
    expect(audioChunks).toBeGreaterThan(1);

    expect((await t.api.get('/metrics')).status).toBe(401); // METRICS_TOKEN is set: needed even from this machine
    const answer = await t.api.get('/metrics', { token: METRICS_TOKEN });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('text/plain');
    const m = samples(answer.body as string);
    const steps = 'storyforge_step_duration_seconds_count';
    const provider = 'openai-compatible';
    expect(value(m, steps, { step: 'story', provider, outcome: 'done' })).toBe(1);
    expect(value(m, steps, { step: 'images', provider, outcome: 'done' })).toBe(imageChunks);
    expect(value(m, steps, { step: 'images', provider, outcome: 'failed' })).toBe(1);
    expect(value(m, steps, { step: 'audio', provider, outcome: 'done' })).toBe(audioChunks);
    expect(value(m, steps, { step: 'merge', provider: 'none', outcome: 'done' })).toBe(1);
    expect(value(m, 'storyforge_provider_call_errors_total', { capability: 'images', provider, status: '500' })).toBe(1);
    expect(value(m, 'storyforge_provider_call_duration_seconds_count', { capability: 'images', provider, status: 'ok' })).toBe(imageChunks);
    expect(value(m, 'storyforge_job_retries_total', { queue: 'image-generation', step: 'images' })).toBe(1);
    expect(value(m, 'storyforge_stories', { status: 'completed' })).toBe(1);
    expect(value(m, 'storyforge_batches', { status: 'completed' })).toBe(1);
    for (const queue of ['batch-stories', 'story-generation', 'image-generation', 'audio-generation', 'audio-merge', 'video-render', 'auto-mode']) {
      expect(m.has(seriesKey('storyforge_queue_oldest_waiting_age_seconds', { queue })), queue).toBe(true);
      expect(value(m, 'storyforge_queue_jobs', { queue, state: 'waiting' })).toBe(0);
    }
    expect(value(m, 'storyforge_http_request_duration_seconds_count', { method: 'GET', route: '/metrics', status: '401' })).toBe(1);
  });

  it('logs a failed step with its batch, story, step and error, and never a key, password or token', async () => {
    // Requests of a user over HTTP: a password, tokens, an X-Request-Id to find the lines by.
    const { token, refreshToken } = await t.api.register('operator@example.com', PASSWORD);
    const login = await t.api.post('/auth/login', { json: { email: 'operator@example.com', password: PASSWORD } });
    expect(login.status).toBe(200);
    const listed = await t.api.get('/stories', { token, headers: { 'x-request-id': 'ops-test-1' } });
    expect(listed.headers.get('x-request-id')).toBe('ops-test-1');
    expect((await t.api.get('/stories', { headers: { 'x-request-id': 'not a sane id' } })).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    // The writer refuses the key, echoing it: the story step fails for good.
    server.enqueue('chat', { kind: 'error', status: 401, message: `Incorrect API key provided: ${API_KEY}` });
    const batch = await runBatch(t.app, [shortStory]);
    expect(batch.status).toBe('failed');
    const storyId = batch.results[0]!.storyId;

    const entries = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const failed = entries.find((e) => e.storyId === storyId && e.step === 'story' && /failed for good/.test(String(e.msg)));
    expect(failed, 'the failed step is logged').toBeDefined();
    expect(failed).toMatchObject({ batchId: batch.id, storyId, step: 'story', attempt: 1, jobId: `story.${storyId}`, level: 40 });
    expect(String(failed!.msg)).toContain('HTTP 401: Incorrect API key provided: [redacted]');
    const call = entries.find((e) => e.msg === 'provider call failed' && e.storyId === storyId);
    expect(call).toMatchObject({ provider: 'openai-compatible', capability: 'writer', status: '401', batchId: batch.id });
    expect(call!.durationMs).toEqual(expect.any(Number));

    // Chunk jobs of the first test carry their chunk; provider calls their model, time and bytes.
    const imageCall = entries.find((e) => e.msg === 'provider call' && e.step === 'images');
    expect(imageCall).toMatchObject({ provider: 'openai-compatible', status: 'ok', chunk: expect.any(Number), attempt: expect.any(Number) });
    expect(imageCall!.bytes).toBeGreaterThan(100);
    expect(imageCall!.batchId).toEqual(expect.any(String));
    const request = entries.find((e) => e.requestId === 'ops-test-1');
    expect(request).toMatchObject({ req: { method: 'GET', url: '/stories' }, res: { statusCode: 200 } });

    const all = logLines.join('\n');
    for (const secret of [API_KEY, PASSWORD, token, refreshToken, login.body.accessToken, METRICS_TOKEN]) {
      expect(all.includes(secret), `a log line holds ${secret.slice(0, 12)}…`).toBe(false);
    }
  });

  it('shows the seven queues to an admin only, with story titles as text', async () => {
    expect((await t.api.get('/admin/queues')).status).toBe(401);
    const user = await t.api.register('not-an-admin@example.com');
    const refused = await t.api.get('/admin/queues/api/queues', { token: user.token });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ statusCode: 403, code: 'forbidden' });

    await t.app.get(AccountService).createUser({ email: 'admin@example.com', password: PASSWORD, isAdmin: true });
    const admin = (await t.api.post('/auth/login', { json: { email: 'admin@example.com', password: PASSWORD } })).body.accessToken as string;
    const page = await t.api.get('/admin/queues', { token: admin });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toBeNull(); // not the web page's policy: the dashboard has its own scripts
    expect(page.body).not.toContain('<b>Lantern</b>'); // the page is a shell; job names arrive as JSON data

    const queues = await t.api.get('/admin/queues/api/queues?activeQueue=image-generation&status=completed&page=1', { token: admin });
    expect(queues.status).toBe(200);
    const shown = queues.body.queues as { name: string; readOnlyMode: boolean; jobs: { name: string }[] }[];
    expect(shown.map((q) => q.name).sort()).toEqual([...QUEUE_NAMES].sort());
    expect(shown.every((q) => q.readOnlyMode)).toBe(true);
    // The title is user text: it travels as a JSON string, which the dashboard renders as text.
    const images = shown.find((q) => q.name === 'image-generation')!;
    expect(images.jobs.length).toBeGreaterThan(0);
    expect(images.jobs[0]!.name).toBe('image-generation · The <b>Lantern</b> Keeper <img src=x onerror=alert(1)>');
  });

  it("serves a worker's metrics, health and readiness on its own port", async () => {
    const readiness = t.app.get(ReadinessService);
    const worker = await startMetricsServer({ host: '127.0.0.1', port: 0, token: METRICS_TOKEN, readiness: () => readiness.check() });
    try {
      const base = `http://127.0.0.1:${worker.port}`;
      expect((await fetch(`${base}/metrics`)).status).toBe(401);
      const metrics = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(await metrics.text()).toContain('storyforge_step_duration_seconds_bucket');
      expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${base}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready', workers: { status: 'up' }, ffmpeg: { status: 'up' } });
      // Once the workers stop, the process is no longer ready, and says why.
      await t.app.get(QueueRepository).closeWorkers();
      const stopped = await fetch(`${base}/ready`);
      expect(stopped.status).toBe(503);
      expect(await stopped.json()).toMatchObject({ code: 'not-ready', failing: ['workers'], workers: { status: 'down' } });
    } finally {
      await worker.close();
    }
  });
});
