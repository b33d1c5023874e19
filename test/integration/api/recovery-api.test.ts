/**
 * Retry, cancel and regenerate over HTTP, as an API client uses them (and misuses them): no
 * token, another user's ids, malformed and unknown ids, repeating a request, racing requests,
 * and what the batch status, the story detail, the files and Socket.IO say afterwards.
 *
 * One server with workers: story writer `source`, speech `espeak-ng`, images from the local fake
 * OpenAI server (so a test can slow or fail the images of one story, told apart by a word only its
 * text holds). JOB_ATTEMPTS = 1: an image the fake refuses fails its story at once. A second
 * server without workers keeps a batch `pending`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE, type DatabaseConnection } from '../../../src/db/database.js';
import { FakeOpenAiServer, type FakeReply } from '../../support/fake-openai-server.js';
import { type ApiAnswer, type ApiClient, connectSocket, type HttpTestApp, type ReceivedEvent, type RecordingSocket, startHttpTestApp } from '../../support/http-app.js';
import { waitFor } from '../../support/test-app.js';

/** A short English tale whose every sentence names `hero`: 3 images (20 words) and 4 clips (12 words). */
function tale(hero: string): string {
  return [
    `The Tale of ${hero}`,
    '',
    `${hero} lived in a small house near the river bend. Every morning ${hero} walked to the mill. ` +
      `${hero} carried bread for the miller and his dog. At noon ${hero} rested under the old oak tree.`,
    '',
    `One day ${hero} found a lost lamb in the reeds. ${hero} carried the lamb home before the rain.`,
    '',
  ].join('\n');
}
const CHUNKS = { wordPerChunkImage: 20, wordPerChunkAudio: 12 };
const DOWN: FakeReply = { kind: 'error', status: 503, message: 'Service Unavailable: the model is overloaded' };

/** The six new routes, with a placeholder for the id. */
const ROUTES = [
  { name: 'batch retry', route: (id: string) => `/stories/batch/${id}/retry`, param: 'batchId' },
  { name: 'batch cancel', route: (id: string) => `/stories/batch/${id}/cancel`, param: 'batchId' },
  { name: 'story retry', route: (id: string) => `/stories/${id}/retry`, param: 'id' },
  { name: 'story cancel', route: (id: string) => `/stories/${id}/cancel`, param: 'id' },
  { name: 'image regenerate', route: (id: string) => `/images/chunks/${id}/regenerate`, param: 'id' },
  { name: 'audio regenerate', route: (id: string) => `/audio/chunks/${id}/regenerate`, param: 'id' },
] as const;

const errorBody = (statusCode: number, code: string) => ({ statusCode, code, message: expect.any(String) });
const brief = (a: ApiAnswer) => ({ status: a.status, code: a.body?.code });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Batch {
  batchId: string;
  storyIds: string[];
}

/** Size and mtime of every file a story made (relative path → "size@mtime"). */
async function filesOf(dataDir: string, storyId: string): Promise<Record<string, string>> {
  const root = path.join(dataDir, 'files', 'stories', storyId);
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else {
        const stat = await fs.stat(full);
        out[path.relative(root, full)] = `${stat.size}@${stat.mtimeMs}`;
      }
    }
  };
  await walk(root);
  return out;
}

function changed(before: Record<string, string>, after: Record<string, string>): string[] {
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => before[k] !== after[k]).sort();
}

async function upload(api: ApiClient, token: string, files: { name: string; text: string }[]): Promise<string[]> {
  const answer = await api.uploadFiles(token, files.map((f) => ({ name: f.name, bytes: Buffer.from(f.text, 'utf8') })));
  if (answer.status !== 201) throw new Error(`upload: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.files.map((f: { id: string }) => f.id);
}

async function createBatch(api: ApiClient, token: string, heroes: string[], autoMode: Record<string, unknown> = {}): Promise<Batch> {
  const fileIds = await upload(api, token, heroes.map((hero) => ({ name: `${hero.toLowerCase()}.txt`, text: tale(hero) })));
  const answer = await api.post('/stories/batch-create', { token, json: { fileIds, language: 'en', autoMode: { ...CHUNKS, ...autoMode } } });
  if (answer.status !== 202) throw new Error(`batch-create: ${answer.status} ${JSON.stringify(answer.body)}`);
  return { batchId: answer.body.batchId, storyIds: answer.body.stories.map((s: { id: string }) => s.id) };
}

async function waitForBatchEnd(api: ApiClient, token: string, batchId: string, timeoutMs = 45_000) {
  return waitFor(
    async () => {
      const answer = await api.get(`/stories/batch/${batchId}/status`, { token });
      return ['pending', 'processing'].includes(answer.body.status) ? undefined : answer.body;
    },
    timeoutMs,
    `batch ${batchId} to end`,
  );
}

async function waitForStory(api: ApiClient, token: string, storyId: string, until: (story: any) => boolean, what: string, timeoutMs = 30_000) { // eslint-disable-line @typescript-eslint/no-explicit-any
  return waitFor(
    async () => {
      const story = (await api.get(`/stories/${storyId}`, { token })).body;
      return until(story) ? story : undefined;
    },
    timeoutMs,
    what,
  );
}

describe('recovery routes over HTTP: retry, cancel, regenerate', () => {
  let t: HttpTestApp;
  const fake = new FakeOpenAiServer();
  let a: { token: string; userId: string };
  let b: { token: string; userId: string };
  /** A's batch of two finished stories (Amberly, Bramwell). */
  let done: Batch;
  /** A's batch without narration (Corvin): audio and merge not requested. */
  let noAudio: Batch;
  /** A's batch whose second story (Dunmore) fails at images: partially_completed. */
  let partial: Batch;
  /** Heroes whose image requests the fake server answers slowly / refuses. */
  const slow = new Map<string, number>();
  const down = new Set<string>();

  const db = () => t.app.get<DatabaseConnection>(DATABASE).db;
  const rowsOf = async <T>(query: ReturnType<typeof sql>): Promise<T[]> => ((await db().execute(query)) as unknown as { rows: T[] }).rows;
  /** Step runs (worker executions) recorded for these stories. */
  const stepRuns = async (storyIds: string[]): Promise<number> =>
    (await rowsOf<{ n: number }>(sql`select count(*)::int as n from step_runs where story_id in ${storyIds}`))[0]!.n;
  const imageRequestsFor = (hero: string) => fake.requestsTo('images').filter((r) => r.rawBody.includes(hero));
  const story = async (id: string, token = a.token) => (await t.api.get(`/stories/${id}`, { token })).body;
  const batchStatus = async (id: string, token = a.token) => (await t.api.get(`/stories/batch/${id}/status`, { token })).body;

  beforeAll(async () => {
    const { baseUrl } = await fake.start();
    fake.setFaultInjector((request, { route }) => {
      if (route !== 'images') return undefined;
      for (const hero of down) if (request.rawBody.includes(hero)) return DOWN;
      for (const [hero, delayMs] of slow) if (request.rawBody.includes(hero)) return { kind: 'default', delayMs };
      return undefined;
    });
    t = await startHttpTestApp({
      env: {
        IMAGE_GENERATOR: 'openai-compatible',
        OPENAI_BASE_URL: baseUrl,
        OPENAI_API_KEY: 'sk-test',
        JOB_ATTEMPTS: '1',
        IMAGE_CONCURRENCY: '4',
        AUDIO_CONCURRENCY: '4',
        STORY_CONCURRENCY: '4',
        MERGE_CONCURRENCY: '2',
      },
    });
    a = await t.api.register('recovery-a@example.com');
    b = await t.api.register('recovery-b@example.com');
    down.add('Dunmore');
    [done, noAudio, partial] = await Promise.all([
      createBatch(t.api, a.token, ['Amberly', 'Bramwell']),
      createBatch(t.api, a.token, ['Corvin'], { generateAudio: false, mergeAudio: false }),
      createBatch(t.api, a.token, ['Elmstead', 'Dunmore']),
    ]);
    const ends = await Promise.all([done, noAudio, partial].map((x) => waitForBatchEnd(t.api, a.token, x.batchId)));
    expect(ends.map((e) => e.status)).toEqual(['completed', 'completed', 'partially_completed']);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await fake.close();
  });

  it('answers 401 with the error body on all six routes without a token or with a bad one, and changes nothing', async () => {
    const before = await stepRuns(done.storyIds);
    const ids = [done.batchId, done.batchId, done.storyIds[0]!, done.storyIds[0]!, (await story(done.storyIds[0]!)).images[0].id, (await story(done.storyIds[0]!)).audio[0].id];
    for (const [i, { name, route }] of ROUTES.entries()) {
      for (const headers of [{}, { authorization: 'Bearer not-a-token' }, { 'x-api-key': 'sfk_0000' }] as Record<string, string>[]) {
        for (const id of [ids[i]!, 'not-a-uuid']) {
          const answer = await t.api.post(route(id), { headers });
          expect({ name, id, status: answer.status, body: answer.body }).toEqual({ name, id, status: 401, body: errorBody(401, 'unauthorized') });
        }
      }
    }
    expect((await batchStatus(done.batchId)).status).toBe('completed');
    expect((await story(done.storyIds[0]!)).status).toBe('completed');
    expect(await stepRuns(done.storyIds)).toBe(before);
  });

  it('answers 400 validation-failed naming the parameter for ids that are not UUIDs', async () => {
    const malformed = ['not-a-uuid', '1', 'x'.repeat(4000), '%20', "'%20OR%201=1--", `${randomUUID()}x`, randomUUID().replace(/-/g, ''), `{${randomUUID()}}`];
    for (const { name, route, param } of ROUTES) {
      for (const id of malformed) {
        const answer = await t.api.post(route(id), { token: a.token });
        expect({ name, id: id.slice(0, 40), status: answer.status, body: answer.body }).toEqual({
          name,
          id: id.slice(0, 40),
          status: 400,
          body: { ...errorBody(400, 'validation-failed'), errors: [{ field: param, message: `${param} must be a UUID` }] },
        });
      }
    }
  });

  it('answers 404 with the error body for an empty id segment (no such route)', async () => {
    for (const { name, route } of ROUTES) {
      const answer = await t.api.post(route(''), { token: a.token });
      expect({ name, status: answer.status, body: answer.body }).toEqual({ name, status: 404, body: errorBody(404, 'not-found') });
    }
  });

  it('answers 404 not-found for unknown UUIDs, and for ids of the wrong kind', async () => {
    const s = await story(done.storyIds[0]!);
    for (const { name, route } of ROUTES) {
      for (const id of [randomUUID(), '00000000-0000-0000-0000-000000000000']) {
        const answer = await t.api.post(route(id), { token: a.token });
        expect({ name, status: answer.status, body: answer.body }).toEqual({ name, status: 404, body: errorBody(404, 'not-found') });
      }
    }
    // Ids of another kind: a story id as a batch id, a batch id as a story id, an image chunk id
    // on the audio route and the other way round, a story id as a chunk id.
    const wrong = [
      t.api.post(`/stories/batch/${s.id}/retry`, { token: a.token }),
      t.api.post(`/stories/batch/${s.id}/cancel`, { token: a.token }),
      t.api.post(`/stories/${done.batchId}/retry`, { token: a.token }),
      t.api.post(`/stories/${done.batchId}/cancel`, { token: a.token }),
      t.api.post(`/audio/chunks/${s.images[0].id}/regenerate`, { token: a.token }),
      t.api.post(`/images/chunks/${s.audio[0].id}/regenerate`, { token: a.token }),
      t.api.post(`/images/chunks/${s.id}/regenerate`, { token: a.token }),
    ];
    for (const answer of await Promise.all(wrong)) expect(answer.body).toEqual(errorBody(404, 'not-found'));
    expect((await story(s.id)).status).toBe('completed');
  });

  it("gives user B 404 for A's batch, stories and chunks on every route; nothing changes for A", async () => {
    const targets = [done, partial];
    const storyIds = targets.flatMap((x) => x.storyIds);
    const detail = await Promise.all(storyIds.map((id) => story(id)));
    const filesBefore = await Promise.all(storyIds.map((id) => filesOf(t.config.dataDir, id)));
    const runsBefore = await stepRuns(storyIds);
    const statusBefore = await Promise.all(targets.map((x) => batchStatus(x.batchId)));
    const requestsBefore = fake.requests.length;

    const calls: string[] = [];
    for (const x of targets) calls.push(`/stories/batch/${x.batchId}/retry`, `/stories/batch/${x.batchId}/cancel`);
    // The same ids in upper case are still UUIDs, and still not B's.
    calls.push(`/stories/batch/${done.batchId.toUpperCase()}/retry`, `/stories/${done.storyIds[0]!.toUpperCase()}/cancel`);
    for (const s of detail) {
      calls.push(`/stories/${s.id}/retry`, `/stories/${s.id}/cancel`);
      for (const c of s.images) calls.push(`/images/chunks/${c.id}/regenerate`);
      for (const c of s.audio) calls.push(`/audio/chunks/${c.id}/regenerate`);
    }
    for (const route of calls) {
      const answer = await t.api.post(route, { token: b.token });
      expect({ route, status: answer.status, body: answer.body }).toEqual({ route, status: 404, body: errorBody(404, 'not-found') });
      // The message must not tell B whose it is.
      expect(answer.body.message).not.toContain('recovery-a@');
    }
    await sleep(500);
    expect(await Promise.all(targets.map((x) => batchStatus(x.batchId)))).toEqual(statusBefore);
    const after = await Promise.all(storyIds.map((id) => story(id)));
    expect(after.map((s) => [s.status, s.steps, s.failedStep])).toEqual(detail.map((s) => [s.status, s.steps, s.failedStep]));
    expect(await stepRuns(storyIds)).toBe(runsBefore);
    const filesAfter = await Promise.all(storyIds.map((id) => filesOf(t.config.dataDir, id)));
    expect(filesAfter.flatMap((f, i) => changed(filesBefore[i]!, f))).toEqual([]);
    expect(fake.requests.length).toBe(requestsBefore);
    expect((await t.api.get('/stories', { token: b.token })).body.total).toBe(0);
  });

  it('shows lastCompletedStep and chunk ids in GET /stories/:id', async () => {
    const s = await story(done.storyIds[0]!);
    expect(s).toMatchObject({ status: 'completed', failedStep: null, lastCompletedStep: 'merge' });
    expect(s.images.length).toBe(3);
    expect(s.audio.length).toBeGreaterThan(1);
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const c of [...s.images, ...s.audio]) expect(c.id).toMatch(uuid);
    expect(new Set([...s.images, ...s.audio].map((c: { id: string }) => c.id)).size).toBe(s.images.length + s.audio.length);
    const failed = await story(partial.storyIds[1]!);
    expect(failed).toMatchObject({ status: 'failed', failedStep: 'images', error: expect.any(String) });
    // lastCompletedStep names a step that is completed (here: later in the pipeline than the failed one).
    expect(failed.lastCompletedStep).not.toBeNull();
    expect(failed.steps[failed.lastCompletedStep]).toBe('completed');
  });

  it('refuses to cancel a completed batch (409 batch-ended) and keeps it completed; a completed story cancel changes nothing', async () => {
    const before = await batchStatus(done.batchId);
    const answer = await t.api.post(`/stories/batch/${done.batchId}/cancel`, { token: a.token });
    expect(answer.status).toBe(409);
    expect(answer.body).toEqual(errorBody(409, 'batch-ended'));
    expect(answer.body.message).toContain('completed');
    const again = await t.api.post(`/stories/batch/${done.batchId}/cancel`, { token: a.token });
    expect(brief(again)).toEqual({ status: 409, code: 'batch-ended' });
    expect(await batchStatus(done.batchId)).toEqual(before);

    const cancelStory = await t.api.post(`/stories/${done.storyIds[0]}/cancel`, { token: a.token });
    expect(cancelStory.status).toBe(200);
    expect(cancelStory.body.changed).toBe(false);
    expect(cancelStory.body.story).toMatchObject({ id: done.storyIds[0], status: 'completed' });
    expect(await batchStatus(done.batchId)).toEqual(before);

    // A partially completed batch has ended too.
    const partialCancel = await t.api.post(`/stories/batch/${partial.batchId}/cancel`, { token: a.token });
    expect(partialCancel.body).toEqual(errorBody(409, 'batch-ended'));
    expect(partialCancel.body.message).toContain('partially_completed');
    expect((await batchStatus(partial.batchId)).status).toBe('partially_completed');
  });

  it('retrying a completed batch or story finds nothing to do: retried [] / changed false, no step run, no file touched', async () => {
    const before = await batchStatus(done.batchId);
    const runs = await stepRuns(done.storyIds);
    const files = await Promise.all(done.storyIds.map((id) => filesOf(t.config.dataDir, id)));
    const requests = fake.requests.length;

    const retried = await t.api.post(`/stories/batch/${done.batchId}/retry`, { token: a.token });
    expect(retried.status).toBe(202);
    expect(retried.body.retried).toEqual([]);
    expect(retried.body.batch).toMatchObject({ id: done.batchId, status: 'completed', completedAt: before.completedAt });
    const single = await t.api.post(`/stories/${done.storyIds[1]}/retry`, { token: a.token });
    expect(single.status).toBe(202);
    expect(single.body).toMatchObject({ changed: false, story: { id: done.storyIds[1], status: 'completed' } });

    await sleep(1_000);
    expect(await batchStatus(done.batchId)).toEqual(before);
    expect(await stepRuns(done.storyIds)).toBe(runs);
    const after = await Promise.all(done.storyIds.map((id) => filesOf(t.config.dataDir, id)));
    expect(after.flatMap((f, i) => changed(files[i]!, f))).toEqual([]);
    expect(fake.requests.length).toBe(requests);
  });

  it('answers 409 step-not-ready for a clip of a story whose audio was not requested, and 409 step-failed for an image of a failed images step', async () => {
    const s = await story(noAudio.storyIds[0]!);
    expect(s.steps).toMatchObject({ story: 'completed', images: 'completed', audio: 'skipped', merge: 'skipped' });
    expect(s.audio.length).toBeGreaterThan(0);
    const clip = await t.api.post(`/audio/chunks/${s.audio[0].id}/regenerate`, { token: a.token });
    expect(clip.body).toEqual(errorBody(409, 'step-not-ready'));
    expect(clip.status).toBe(409);

    const failed = await story(partial.storyIds[1]!);
    const image = await t.api.post(`/images/chunks/${failed.images[0].id}/regenerate`, { token: a.token });
    expect(image.status).toBe(409);
    expect(image.body).toEqual(errorBody(409, 'step-failed'));
    expect(image.body.message).toContain(`/stories/${failed.id}/retry`);
    const after = await story(failed.id);
    expect([after.status, after.steps, after.failedStep]).toEqual([failed.status, failed.steps, failed.failedStep]);
    expect((await batchStatus(noAudio.batchId)).status).toBe('completed');
    expect((await batchStatus(partial.batchId)).status).toBe('partially_completed');
  });

  it('regenerates one image: 202 with the story, a second request at once is 409 step-running, only that file changes', async () => {
    const id = done.storyIds[0]!;
    const s = await story(id);
    const files = await filesOf(t.config.dataDir, id);
    const other = await filesOf(t.config.dataDir, done.storyIds[1]!);
    const requests = imageRequestsFor('Amberly').length;
    slow.set('Amberly', 1_500);
    try {
      const first = await t.api.post(`/images/chunks/${s.images[1].id}/regenerate`, { token: a.token });
      expect(first.status).toBe(202);
      expect(first.body).toMatchObject({ id, status: 'processing', steps: { audio: 'completed', merge: 'completed' } });
      expect(['queued', 'running']).toContain(first.body.steps.images);
      expect(first.body.images[1]).toMatchObject({ id: s.images[1].id, status: 'pending' });
      const second = await t.api.post(`/images/chunks/${s.images[1].id}/regenerate`, { token: a.token });
      expect(second.status).toBe(409);
      expect(second.body).toEqual(errorBody(409, 'step-running'));
      const sibling = await t.api.post(`/images/chunks/${s.images[0].id}/regenerate`, { token: a.token });
      expect(brief(sibling)).toEqual({ status: 409, code: 'step-running' });
      expect((await batchStatus(done.batchId)).status).toBe('processing');
    } finally {
      slow.delete('Amberly');
    }
    const end = await waitForStory(t.api, a.token, id, (x) => x.status === 'completed', 'story to complete after regenerate');
    expect(end.steps).toMatchObject({ images: 'completed', audio: 'completed', merge: 'completed' });
    expect(changed(files, await filesOf(t.config.dataDir, id))).toEqual(['images/002.png']);
    expect(changed(other, await filesOf(t.config.dataDir, done.storyIds[1]!))).toEqual([]);
    expect(imageRequestsFor('Amberly').length - requests).toBe(1);
    const batch = await waitForBatchEnd(t.api, a.token, done.batchId);
    expect(batch.status).toBe('completed');
  });

  it('regenerates one clip: the merge runs again, images and the other clips are kept', async () => {
    const id = done.storyIds[1]!;
    const s = await story(id);
    const files = await filesOf(t.config.dataDir, id);
    const first = await t.api.post(`/audio/chunks/${s.audio[2].id}/regenerate`, { token: a.token });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ id, status: 'processing', steps: { merge: 'pending' } });
    expect(['queued', 'running']).toContain(first.body.steps.audio);
    expect(first.body.audio[2]).toMatchObject({ id: s.audio[2].id, status: 'pending', url: null });
    const end = await waitForStory(t.api, a.token, id, (x) => x.status === 'completed', 'story to complete after clip regenerate');
    expect(end.steps).toMatchObject({ images: 'completed', audio: 'completed', merge: 'completed' });
    const diff = changed(files, await filesOf(t.config.dataDir, id));
    expect(diff).toContain('audio/003.wav');
    expect(diff).toContain('narration.mp3');
    expect(diff.filter((f) => f.startsWith('images/') || ['audio/001.wav', 'audio/002.wav', 'audio/004.wav'].includes(f))).toEqual([]);
    expect((await waitForBatchEnd(t.api, a.token, done.batchId)).status).toBe('completed');
  });

  it('retries the failed story of a partially completed batch once the provider is back; a concurrent second retry finds nothing', async () => {
    const [okId, failedId] = partial.storyIds as [string, string];
    const okFiles = await filesOf(t.config.dataDir, okId);
    const okRuns = await stepRuns([okId]);
    const failedFiles = await filesOf(t.config.dataDir, failedId);
    const clipsBefore = Object.keys(failedFiles).filter((f) => f.startsWith('audio/'));
    down.delete('Dunmore');

    const [one, two] = await Promise.all([
      t.api.post(`/stories/batch/${partial.batchId}/retry`, { token: a.token }),
      t.api.post(`/stories/batch/${partial.batchId}/retry`, { token: a.token }),
    ]);
    expect([one.status, two.status]).toEqual([202, 202]);
    expect([...one.body.retried, ...two.body.retried]).toEqual([failedId]);
    const end = await waitForBatchEnd(t.api, a.token, partial.batchId);
    expect(end).toMatchObject({ status: 'completed', processedFiles: 2, failedFiles: 0 });
    const s = await story(failedId);
    expect(s).toMatchObject({ status: 'completed', failedStep: null, error: null, lastCompletedStep: 'merge' });
    // The other story is not touched; the failed story's finished clips are kept.
    expect(changed(okFiles, await filesOf(t.config.dataDir, okId))).toEqual([]);
    expect(await stepRuns([okId])).toBe(okRuns);
    const failedAfter = await filesOf(t.config.dataDir, failedId);
    expect(clipsBefore.length).toBeGreaterThan(0);
    for (const clip of clipsBefore) expect(failedAfter[clip], clip).toBe(failedFiles[clip]);

    const again = await t.api.post(`/stories/batch/${partial.batchId}/retry`, { token: a.token });
    expect(again.body.retried).toEqual([]);
    expect((await t.api.post(`/stories/${failedId}/retry`, { token: a.token })).body.changed).toBe(false);
  });

  /** The running batch cancelled below, and what its socket heard. */
  const cancelledRun: { batchId?: string; storyIds?: string[]; end?: ReceivedEvent; statusAtCancel?: any } = {}; // eslint-disable-line @typescript-eslint/no-explicit-any

  it('cancels a running batch: 200 cancelled, stories and unfinished steps cancelled, no more image calls; twice → cancelled false; then retry finishes it', async () => {
    slow.set('Fenwick', 20_000);
    slow.set('Galloway', 20_000);
    let socket: RecordingSocket | undefined;
    try {
      const x = await createBatch(t.api, a.token, ['Fenwick', 'Galloway']);
      socket = await connectSocket(t.baseUrl, a.token);
      await socket.call('join-batch', { batchId: x.batchId });
      for (const id of x.storyIds) await socket.call('join-story', { storyId: id });
      await waitFor(async () => (imageRequestsFor('Fenwick').length && imageRequestsFor('Galloway').length ? true : undefined), 20_000, 'image calls');
      const running = await story(x.storyIds[0]!);
      expect(running.steps.images).toBe('running');

      const cancel = await t.api.post(`/stories/batch/${x.batchId}/cancel`, { token: a.token });
      const cancelledAt = Date.now();
      expect(cancel.status).toBe(200);
      expect(cancel.body.cancelled).toBe(true);
      expect(cancel.body.batch).toMatchObject({ id: x.batchId, status: 'cancelled', completedAt: expect.any(String) });
      expect(cancel.body.batch.stories.map((s: { status: string }) => s.status)).toEqual(['cancelled', 'cancelled']);

      const twice = await t.api.post(`/stories/batch/${x.batchId}/cancel`, { token: a.token });
      expect(twice.status).toBe(200);
      expect(twice.body).toMatchObject({ cancelled: false, batch: { status: 'cancelled' } });

      await sleep(1_500);
      const status = await batchStatus(x.batchId);
      expect(status.status).toBe('cancelled');
      for (const id of x.storyIds) {
        const s = await story(id);
        expect(s.status).toBe('cancelled');
        expect(s.steps.story).toBe('completed');
        expect(s.steps.images).toBe('cancelled');
        expect(Object.values(s.steps).filter((v) => v === 'queued' || v === 'running')).toEqual([]);
        // Regenerating a chunk of a cancelled story says so.
        const image = await t.api.post(`/images/chunks/${s.images[0].id}/regenerate`, { token: a.token });
        expect(image.body).toEqual(errorBody(409, 'story-cancelled'));
        const clip = await t.api.post(`/audio/chunks/${s.audio[0].id}/regenerate`, { token: a.token });
        expect(clip.body).toEqual(errorBody(409, 'story-cancelled'));
      }
      const late = fake.requestsTo('images').filter((r) => r.receivedAt > cancelledAt + 500 && (r.rawBody.includes('Fenwick') || r.rawBody.includes('Galloway')));
      expect(late.length).toBe(0);
      const ends = socket.inRoom(`batch-${x.batchId}`).filter((e) => e.event === 'batch-stories-error' || e.event === 'batch-stories-complete');
      expect(ends.map((e) => [e.event, e.data.status])).toEqual([['batch-stories-error', 'cancelled']]);
      Object.assign(cancelledRun, { batchId: x.batchId, storyIds: x.storyIds, end: ends[0], statusAtCancel: status });
      for (const id of x.storyIds) {
        expect(socket.inRoom(`story-${id}`).filter((e) => e.event === 'auto-mode-error').map((e) => e.data.status)).toEqual(['cancelled']);
      }

      // Retry continues it: both stories, from the images step; the story text is not made again.
      slow.clear();
      const storyRuns = async () =>
        (await rowsOf<{ n: number }>(sql`select count(*)::int as n from step_runs where step = 'story' and story_id in ${x.storyIds}`))[0]!.n;
      const textRuns = await storyRuns();
      const retry = await t.api.post(`/stories/batch/${x.batchId}/retry`, { token: a.token });
      expect(retry.status).toBe(202);
      expect([...retry.body.retried].sort()).toEqual([...x.storyIds].sort());
      expect(retry.body.batch.status).toBe('processing');
      const end = await waitForBatchEnd(t.api, a.token, x.batchId);
      expect(end.status).toBe('completed');
      expect(await storyRuns()).toBe(textRuns);
      await waitFor(async () => (socket!.inRoom(`batch-${x.batchId}`).some((e) => e.event === 'batch-stories-complete') ? true : undefined), 10_000, 'batch-stories-complete');
    } finally {
      slow.clear();
      socket?.close();
    }
  });

  it('cancels one story of a running batch: changed true, the batch goes on and ends partially_completed; cancel twice → changed false', async () => {
    slow.set('Hollins', 20_000);
    try {
      const x = await createBatch(t.api, a.token, ['Hollins', 'Ivydale']);
      await waitFor(async () => (imageRequestsFor('Hollins').length ? true : undefined), 20_000, 'image calls');
      const cancel = await t.api.post(`/stories/${x.storyIds[0]}/cancel`, { token: a.token });
      expect(cancel.status).toBe(200);
      expect(cancel.body).toMatchObject({ changed: true, story: { id: x.storyIds[0], status: 'cancelled', steps: { images: 'cancelled' } } });
      const twice = await t.api.post(`/stories/${x.storyIds[0]}/cancel`, { token: a.token });
      expect(twice.body).toMatchObject({ changed: false, story: { status: 'cancelled' } });
      const end = await waitForBatchEnd(t.api, a.token, x.batchId);
      expect(end).toMatchObject({ status: 'partially_completed', processedFiles: 1, failedFiles: 0 });
      expect(end.results.map((r: { status: string }) => r.status)).toEqual(['cancelled', 'completed']);
    } finally {
      slow.clear();
    }
  });

  // Fails today (timing-dependent): RecoveryService.cancelBatch marks the batch cancelled first, then
  // cancels its stories one by one, each refreshing the batch; the first refresh already sends the
  // one-time end event, built while later stories are still processing/pending.
  it('the batch-stories-error of a cancelled batch carries its final state: every story cancelled, as GET status says', () => {
    // The end event is sent once, last: a client that stops listening there must see the end state.
    const { end, statusAtCancel } = cancelledRun;
    expect(end, 'the cancel test above ran').toBeDefined();
    expect(end!.data.results.map((r: { status: string }) => r.status)).toEqual(statusAtCancel.results.map((r: { status: string }) => r.status));
    expect(end!.data.progress.percentage).toBe(statusAtCancel.progress.percentage);
  });

  // Fails today: regenerateChunk reads the step as `completed`, loses the atomic completed→queued
  // transition to the other request, and then answers `step-not-ready` ("is completed; there is no
  // chunk to regenerate yet").
  it('two regenerate requests at the same moment: one 202, the other 409 step-running (same chunk, or a sibling)', async () => {
    const c = await story(noAudio.storyIds[0]!);
    slow.set('Corvin', 1_000);
    try {
      for (const [first, second] of [[0, 0], [1, 2]] as const) {
        const pair = await Promise.all([
          t.api.post(`/images/chunks/${c.images[first].id}/regenerate`, { token: a.token }),
          t.api.post(`/images/chunks/${c.images[second].id}/regenerate`, { token: a.token }),
        ]);
        const statuses = pair.map((x) => x.status).sort();
        expect(statuses).toEqual([202, 409]);
        const refused = pair.find((x) => x.status === 409)!;
        expect({ chunks: [first, second], body: refused.body }).toEqual({ chunks: [first, second], body: errorBody(409, 'step-running') });
        await waitForStory(t.api, a.token, c.id, (x) => x.status === 'completed', 'story to complete after regenerate');
      }
    } finally {
      slow.delete('Corvin');
    }
    expect((await waitForBatchEnd(t.api, a.token, noAudio.batchId)).status).toBe('completed');
  });

  // Fails today: regenerateChunk only checks the audio step; the running merge is left alone (its
  // completed/failed→pending reset does not apply), finishes with the old clips and marks merge
  // completed; the new clip is never merged.
  it('a clip regenerated while the merge runs ends up in the narration: refused (409), or merged again after it is made', async () => {
    const id = done.storyIds[0]!;
    const s = await story(id);
    expect((await t.api.post(`/audio/chunks/${s.audio[0].id}/regenerate`, { token: a.token })).status).toBe(202);
    // The clip is made, then the merge runs again (a few seconds); regenerate another clip meanwhile.
    const during = await waitFor(
      async () => {
        const x = await story(id);
        if (x.status === 'completed') throw new Error('the merge ended before it was seen running');
        return x.steps.merge === 'running' ? x : undefined;
      },
      20_000,
      'the merge to run',
    );
    expect(during.steps.audio).toBe('completed');
    const second = await t.api.post(`/audio/chunks/${s.audio[1].id}/regenerate`, { token: a.token });
    expect([202, 409]).toContain(second.status);
    if (second.status === 409) {
      expect(second.body).toEqual(errorBody(409, 'step-running'));
      return;
    }
    const end = await waitForStory(t.api, a.token, id, (x) => x.status !== 'processing', 'story to end after the second clip');
    expect(end.status).toBe('completed');
    const runs = await rowsOf<{ step: string; chunk_index: number | null; started_at: Date; finished_at: Date | null }>(sql`
      select step, chunk_index, started_at, finished_at from step_runs
      where story_id = ${id} and ((step = 'audio' and chunk_index = 1) or step = 'merge') order by started_at`);
    const clipRun = runs.filter((r) => r.step === 'audio').at(-1)!;
    const mergesAfter = runs.filter((r) => r.step === 'merge' && new Date(r.started_at) >= new Date(clipRun.finished_at!));
    expect({ clipMadeAt: clipRun.finished_at, mergesStartedAfterIt: mergesAfter.length }).toEqual({ clipMadeAt: clipRun.finished_at, mergesStartedAfterIt: 1 });
  });

  // Fails today: regenerateChunk reopens the batch (cancelled → processing); when the story ends
  // the batch is recomputed as partially_completed, though nobody retried it.
  it('regenerating an image of a completed story in a cancelled batch does not turn the batch into partially_completed', async () => {
    slow.set('Lockwood', 20_000);
    try {
      const x = await createBatch(t.api, a.token, ['Mapleton', 'Lockwood']);
      await waitForStory(t.api, a.token, x.storyIds[0]!, (y) => y.status === 'completed', 'the first story to complete');
      const cancel = await t.api.post(`/stories/batch/${x.batchId}/cancel`, { token: a.token });
      expect(cancel.body).toMatchObject({ cancelled: true, batch: { status: 'cancelled' } });
      expect(cancel.body.batch.results.map((r: { status: string }) => r.status)).toEqual(['completed', 'cancelled']);
      slow.clear();
      const m = await story(x.storyIds[0]!);
      const regen = await t.api.post(`/images/chunks/${m.images[0].id}/regenerate`, { token: a.token });
      expect(regen.status).toBe(202);
      await waitForStory(t.api, a.token, m.id, (y) => y.status === 'completed', 'the story to complete again');
      await sleep(300);
      const after = await batchStatus(x.batchId);
      expect(after.results.map((r: { status: string }) => r.status)).toEqual(['completed', 'cancelled']);
      // Nobody retried the batch: it was cancelled and should still say so.
      expect(after.status).toBe('cancelled');
    } finally {
      slow.clear();
    }
  });
});

describe('cancelling a batch that has not started (no workers)', () => {
  let t: HttpTestApp;
  let a: { token: string; userId: string };
  const pendingEvents: ReceivedEvent[] = [];
  let pendingStatus: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- the batch status body
  beforeAll(async () => {
    t = await startHttpTestApp({ workers: false });
    a = await t.api.register('pending@example.com');
  });
  afterAll(async () => t?.close());

  it('cancels a pending batch: cancelled, every story and step cancelled, status shows cancelled; retry queues it again', async () => {
    const x = await createBatch(t.api, a.token, ['Juniper', 'Kestrel']);
    expect((await t.api.get(`/stories/batch/${x.batchId}/status`, { token: a.token })).body.status).toBe('pending');
    const socket = await connectSocket(t.baseUrl, a.token);
    try {
      await socket.call('join-batch', { batchId: x.batchId });
      const cancel = await t.api.post(`/stories/batch/${x.batchId}/cancel`, { token: a.token });
      expect(cancel.status).toBe(200);
      expect(cancel.body.cancelled).toBe(true);
      expect(cancel.body.batch).toMatchObject({ status: 'cancelled', processedFiles: 0, failedFiles: 0 });
      const status = (await t.api.get(`/stories/batch/${x.batchId}/status`, { token: a.token })).body;
      expect(status.status).toBe('cancelled');
      for (const s of status.stories) {
        expect(s.status).toBe('cancelled');
        expect(s.steps).toMatchObject({ story: 'cancelled', images: 'cancelled', audio: 'cancelled', merge: 'cancelled' });
      }
      expect((await t.api.post(`/stories/batch/${x.batchId}/cancel`, { token: a.token })).body.cancelled).toBe(false);
      await waitFor(async () => (socket.inRoom(`batch-${x.batchId}`).some((e) => e.event === 'batch-stories-error') ? true : undefined), 5_000, 'batch-stories-error');
      const events = socket.inRoom(`batch-${x.batchId}`);
      expect(events.filter((e) => e.event === 'batch-stories-error').map((e) => e.data.status)).toEqual(['cancelled']);
      pendingEvents.push(...events);
      pendingStatus = status;

      const retry = await t.api.post(`/stories/batch/${x.batchId}/retry`, { token: a.token });
      expect(retry.status).toBe(202);
      expect([...retry.body.retried].sort()).toEqual([...x.storyIds].sort());
      expect(retry.body.batch.status).toBe('processing');
      expect(retry.body.batch.stories.map((s: { steps: { story: string } }) => s.steps.story)).toEqual(['queued', 'queued']);
    } finally {
      socket.close();
    }
  });

  // Fails today: the end event is sent while the second story is still `pending` (see the running
  // case above), and a `batch-stories-start` {status: processing, startedAt: null} goes out first.
  it('tells the socket a batch cancelled before it started ended cancelled, with its final state, and never that it started', () => {
    expect(pendingStatus, 'the cancel test above ran').toBeDefined();
    const end = pendingEvents.find((e) => e.event === 'batch-stories-error')!;
    expect(end.data.results.map((r: { status: string }) => r.status)).toEqual(pendingStatus.results.map((r: { status: string }) => r.status));
    expect(end.data.progress.percentage).toBe(pendingStatus.progress.percentage);
    // It never started: a `batch-stories-start` saying `processing`, startedAt null, is wrong.
    expect(pendingEvents.filter((e) => e.event === 'batch-stories-start').map((e) => e.data)).toEqual([]);
  });

  // Fails today: cancelBatch reads the batch (pending), loses the atomic cancel to the other request,
  // and compares against the stale status: 409 batch-ended "has already ended (pending)".
  it('two cancels of one batch at the same moment: both 200, exactly one cancelled true (a double click is not a 409)', async () => {
    const xs = await Promise.all(['Nashby', 'Norwell', 'Nutley', 'Newbold'].map((hero) => createBatch(t.api, a.token, [hero])));
    const answers: { status: number; cancelled?: boolean; code?: string; message?: string }[][] = [];
    for (const x of xs) {
      const pair = await Promise.all([1, 2].map(() => t.api.post(`/stories/batch/${x.batchId}/cancel`, { token: a.token })));
      answers.push(pair.map((p) => ({ status: p.status, cancelled: p.body.cancelled, code: p.body.code, message: p.body.message })));
      expect((await t.api.get(`/stories/batch/${x.batchId}/status`, { token: a.token })).body.status).toBe('cancelled');
    }
    for (const pair of answers) {
      expect(pair).toEqual(expect.arrayContaining([{ status: 200, cancelled: true, code: undefined, message: undefined }, { status: 200, cancelled: false, code: undefined, message: undefined }]));
    }
  });

  it('lists the six routes in /docs-json with their answers and error bodies', async () => {
    const doc = (await t.api.get('/docs-json')).body;
    const expected: [string, string, string, string, string[]][] = [
      ['/stories/batch/{batchId}/retry', 'batchId', '202', 'BatchRetryDto', ['400', '401', '404']],
      ['/stories/batch/{batchId}/cancel', 'batchId', '200', 'BatchCancelDto', ['400', '401', '404', '409']],
      ['/stories/{id}/retry', 'id', '202', 'StoryRecoveryDto', ['400', '401', '404']],
      ['/stories/{id}/cancel', 'id', '200', 'StoryRecoveryDto', ['400', '401', '404']],
      ['/images/chunks/{id}/regenerate', 'id', '202', 'StoryDetailDto', ['400', '401', '404', '409']],
      ['/audio/chunks/{id}/regenerate', 'id', '202', 'StoryDetailDto', ['400', '401', '404', '409']],
    ];
    for (const [route, param, ok, schema, errors] of expected) {
      const operation = doc.paths[route]?.post;
      expect(operation, route).toBeDefined();
      expect(Object.keys(doc.paths[route])).toEqual(['post']);
      expect(operation.summary, route).toBeTruthy();
      expect(operation.security).toEqual([{ bearer: [] }, { 'api-key': [] }]);
      expect(operation.parameters).toEqual([expect.objectContaining({ name: param, in: 'path', required: true, schema: expect.objectContaining({ format: 'uuid' }) })]);
      expect(Object.keys(operation.responses).sort(), route).toEqual([ok, ...errors].sort());
      expect(JSON.stringify(operation.responses[ok]), route).toContain(`#/components/schemas/${schema}`);
      for (const status of errors) expect(JSON.stringify(operation.responses[status]), `${route} ${status}`).toContain('#/components/schemas/ErrorResponseDto');
    }
    const schemas = doc.components.schemas;
    expect(schemas.BatchRetryDto.properties.retried).toMatchObject({ type: 'array', items: { type: 'string' } });
    expect(schemas.BatchCancelDto.properties.cancelled.type).toBe('boolean');
    expect(schemas.StoryRecoveryDto.properties.changed.type).toBe('boolean');
    expect(schemas.BatchStatusDto.properties.status.enum).toContain('cancelled');
    expect(schemas.StoryDto?.properties?.lastCompletedStep ?? schemas.StoryDetailDto.properties.lastCompletedStep).toBeDefined();
    expect(schemas.ImageChunkDto.properties.id).toBeDefined();
    expect(schemas.AudioChunkDto.properties.id).toBeDefined();
  });
});
