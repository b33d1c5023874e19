/**
 * When things go wrong, as a user sees it: a provider down for one story (rollback, retry),
 * cancelling a running batch, regenerating one chunk, Redis losing every job (reconciler), and a
 * provider's 429 with Retry-After. In process, against the local fake OpenAI server, real Redis
 * and real PostgreSQL.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AutoModeConfig, BatchJob } from '../../../src/db/schema.js';
import { mapStory } from '../../../src/dtos/story-response.dto.js';
import { ApiError } from '../../../src/shared/api-error.js';
import { QUEUE_NAMES } from '../../../src/repositories/job-catalog.js';
import { BatchRepository } from '../../../src/repositories/batch.repository.js';
import { QueueRepository } from '../../../src/repositories/queue.repository.js';
import { artifactKeys } from '../../../src/repositories/storage.repository.js';
import { StoryRepository } from '../../../src/repositories/story.repository.js';
import { UserRepository } from '../../../src/repositories/user.repository.js';
import { BatchService } from '../../../src/services/batch.service.js';
import { ReconcilerService } from '../../../src/services/reconciler.service.js';
import { RecoveryService } from '../../../src/services/recovery.service.js';
import { RollbackService } from '../../../src/pipeline/rollback.service.js';
import { IntakeService } from '../../../src/services/intake.service.js';
import { runBatch } from '../../support/batches.js';
import { FakeOpenAiServer, type FakeReply } from '../../support/fake-openai-server.js';
import { localStorageOf, startTestApp, type TestApp, waitFor } from '../../support/test-app.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Two small stories. With 10 words per audio chunk each sentence (7–9 words) is one clip; with
 * 20 words per image chunk two sentences make one image: 2 images and 4 clips per story.
 * Every sentence of the second story names "Brindle", so the fake server can tell its requests apart.
 */
const STORY_A = [
  'The Ashgrove Tale',
  '',
  'Ashgrove was a quiet village beside a slow river. Every morning the baker lit her oven early. ' +
    'Children carried warm bread to the old mill. At night the lanterns glowed along the water.',
  '',
].join('\n');
const STORY_B = [
  'The Brindle Fox',
  '',
  'Brindle the fox crossed the Sparrow meadow at dawn. Brindle met a Wombat resting under the oak. ' +
    'Brindle asked the heron about the hidden spring. Brindle and the heron drank until the sunset.',
  '',
].join('\n');
const CHUNKING: Partial<AutoModeConfig> = { wordPerChunkImage: 20, wordPerChunkAudio: 10 };

/** 200 OK with a body that starts like a WAV file but holds no audio: stored, then ffprobe rejects it. */
const BROKEN_WAV: FakeReply = {
  kind: 'raw',
  status: 200,
  headers: { 'content-type': 'audio/wav' },
  body: Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WAVE'), Buffer.from('this is not audio at all')]),
};

interface StepRunRow {
  story_id: string;
  step: string;
  chunk_index: number | null;
  attempt: number;
  status: string;
  error: string | null;
  started_at: Date;
  finished_at: Date | null;
}

interface FileInfo {
  size: number;
  mtimeMs: number;
  sha256: string;
}

describe('recovery: retry, cancel, regenerate, reconcile, Retry-After', () => {
  const server = new FakeOpenAiServer();
  let t: TestApp;
  let app: INestApplicationContext;
  let db: pg.Client;
  let dir: string;
  let fileA: string;
  let fileB: string;

  /** While this file exists, the ffprobe wrapper below answers 1.5 s late for clips (after reading them). */
  let slowProbeFlag: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-recovery-'));
    slowProbeFlag = path.join(dir, 'slow-probe');
    const ffprobe = path.join(dir, 'ffprobe');
    await fs.writeFile(
      ffprobe,
      [
        '#!/bin/sh',
        'out=$(ffprobe "$@"); rc=$?',
        `case "$*" in *"/audio/"*) if [ -f '${slowProbeFlag}' ]; then sleep 1.5; fi ;; esac`,
        'printf "%s\\n" "$out"',
        'exit $rc',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const { baseUrl } = await server.start();
    t = await startTestApp({
      database: 'postgres',
      env: {
        STORY_WRITER: 'source',
        IMAGE_GENERATOR: 'openai-compatible',
        SPEECH_SYNTHESIZER: 'openai-compatible',
        OPENAI_BASE_URL: baseUrl,
        OPENAI_API_KEY: 'sk-test',
        OPENAI_IMAGE_SIZE: '256x256',
        // Every chunk of a story runs at once: no chunk waits behind another for a worker slot.
        IMAGE_CONCURRENCY: '8',
        AUDIO_CONCURRENCY: '8',
        // The reconciler runs only when the test calls it (plus its one pass at start-up).
        RECONCILE_INTERVAL_MS: '0',
        AUDIO_PAUSE_MS: '100',
        FFPROBE_PATH: ffprobe,
      },
    });
    app = t.app;
    db = new pg.Client({ connectionString: t.config.databaseUrl });
    await db.connect();
    fileA = path.join(dir, 'ashgrove.txt');
    fileB = path.join(dir, 'brindle.txt');
    await fs.writeFile(fileA, STORY_A);
    await fs.writeFile(fileB, STORY_B);
  });

  afterAll(async () => {
    await db?.end();
    await t?.close();
    await server.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  beforeEach(() => server.reset());
  // A test that failed or timed out with its batch still running would otherwise go on working
  // (and calling the provider) during the next one: every batch not ended is cancelled.
  afterEach(async () => {
    server.setFaultInjector();
    for (const batch of await app.get(BatchRepository).listUnfinished()) {
      await app.get(RecoveryService).cancelBatch(batch.id).catch(() => undefined);
    }
  });

  // ------------------------------------------------------------------------------------------
  // helpers

  const stories = () => app.get(StoryRepository);
  const recovery = () => app.get(RecoveryService);
  const storage = () => localStorageOf(app);

  /** Uploads the files and creates a batch, without waiting for it. */
  async function startBatch(files: string[], autoMode: Partial<AutoModeConfig> = CHUNKING): Promise<{ batchId: string; storyIds: string[] }> {
    const user = await app.get(UserRepository).ensure('tester@storyforge.invalid', 'Tester');
    const uploadIds: string[] = [];
    for (const file of files) {
      const upload = await app.get(IntakeService).ingest({ userId: user.id, fileName: path.basename(file), bytes: await fs.readFile(file) });
      uploadIds.push(upload.id);
    }
    const { batch, stories: created } = await app.get(BatchService).create({ userId: user.id, uploadIds, language: 'en', autoMode });
    return { batchId: batch.id, storyIds: created.map((s) => s.id) };
  }

  /** Waits until the batch has ended (any status but pending/processing). */
  function batchEnded(batchId: string, timeoutMs = 60_000): Promise<BatchJob> {
    return waitFor(
      async () => {
        const batch = await app.get(BatchRepository).get(batchId);
        return batch && batch.status !== 'pending' && batch.status !== 'processing' ? batch : undefined;
      },
      timeoutMs,
      `batch ${batchId} to end`,
    );
  }

  async function stepRuns(storyIds: string[]): Promise<StepRunRow[]> {
    const { rows } = await db.query<StepRunRow>(
      'select story_id, step, chunk_index, attempt, status, error, started_at, finished_at from step_runs where story_id = any($1::uuid[]) order by started_at',
      [storyIds],
    );
    return rows;
  }

  /** Every file under the story's folder (recursively): relative path → size, mtime, hash. */
  async function storyFiles(storyId: string): Promise<Map<string, FileInfo>> {
    const root = storage().pathOf(artifactKeys.story(storyId));
    const files = new Map<string, FileInfo>();
    const walk = async (folder: string): Promise<void> => {
      let entries;
      try {
        entries = await fs.readdir(folder, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const full = path.join(folder, entry.name);
        if (entry.isDirectory()) await walk(full);
        else {
          const stat = await fs.stat(full);
          const sha256 = createHash('sha256').update(await fs.readFile(full)).digest('hex');
          files.set(path.relative(root, full), { size: stat.size, mtimeMs: stat.mtimeMs, sha256 });
        }
      }
    };
    await walk(root);
    return files;
  }

  /** Asserts the story's images and audio folders hold exactly one file per chunk, the chunk's own. */
  async function expectOneFilePerChunk(storyId: string): Promise<{ images: number; audio: number }> {
    const [images, audio] = await Promise.all([stories().imageChunks(storyId), stories().audioChunks(storyId)]);
    expect(images.length).toBeGreaterThan(0);
    expect(audio.length).toBeGreaterThan(0);
    expect(images.every((c) => c.status === 'completed' && c.storageKey)).toBe(true);
    expect(audio.every((c) => c.status === 'completed' && c.storageKey)).toBe(true);
    expect(await storage().list(artifactKeys.imagesFolder(storyId))).toEqual(images.map((c) => c.storageKey).sort());
    expect(await storage().list(artifactKeys.audioFolder(storyId))).toEqual(audio.map((c) => c.storageKey).sort());
    const all = [...(await storyFiles(storyId)).keys()];
    expect(all.filter((name) => name.endsWith('.part'))).toEqual([]);
    return { images: images.length, audio: audio.length };
  }

  async function rejection(promise: Promise<unknown>): Promise<ApiError> {
    try {
      await promise;
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      return error as ApiError;
    }
    throw new Error('expected the call to be refused');
  }

  async function queueCounts(): Promise<Record<string, number>> {
    const queues = app.get(QueueRepository);
    return Object.fromEntries(await Promise.all(QUEUE_NAMES.map(async (name) => [name, await queues.count(name)] as const)));
  }

  /** Slows every images and speech answer down by `ms`. */
  function latency(ms: number): void {
    server.setFaultInjector((_request, { route }) => (route === 'images' || route === 'speech' ? { kind: 'default', delayMs: ms } : undefined));
  }

  // ------------------------------------------------------------------------------------------

  it('1. a provider down for one story: partially_completed, rolled back, then retried to completed', async () => {
    // Speech for story B fails with 503, except its "Sparrow" chunk; its "Wombat" chunk first gets
    // a 200 whose body is not audio (the file is stored, then cannot be decoded), then 503s.
    // The 503s take 300 ms each, so that the Sparrow clip and the broken Wombat file are written
    // well before the step fails for good (see test 1b for work still running at that moment).
    let brokenServed = 0;
    server.setFaultInjector((request, { route }) => {
      if (route !== 'speech') return undefined;
      const input = String(request.body?.input ?? '');
      if (!input.includes('Brindle') || input.includes('Sparrow')) return undefined;
      if (input.includes('Wombat') && brokenServed === 0) {
        brokenServed++;
        return BROKEN_WAV;
      }
      return { kind: 'error', status: 503, message: 'Brindle voice service down', delayMs: 300 };
    });
    const started = Date.now();
    const batch = await runBatch(app, [fileA, fileB], { autoMode: CHUNKING, language: 'en', timeoutMs: 60_000 });
    const failedAfterMs = Date.now() - started;

    expect(batch.status).toBe('partially_completed');
    expect(batch).toMatchObject({ processedFiles: 1, failedFiles: 1 });
    const [resultA, resultB] = batch.results;
    expect(resultA).toMatchObject({ file: 'ashgrove.txt', status: 'completed' });
    expect(resultB).toMatchObject({ file: 'brindle.txt', status: 'failed', failedStep: 'audio' });
    expect(resultB!.error).toMatch(/HTTP 503: Brindle voice service down/);
    expect(resultB!.error).toMatch(/\(chunk \d\)$/);
    expect(brokenServed).toBe(1);
    // The broken answer was stored as a file before it failed to decode (and must not stay).
    const audioRunsB = (await stepRuns([resultB!.storyId])).filter((r) => r.step === 'audio');
    expect(audioRunsB.some((r) => /002\.wav/.test(r.error ?? ''))).toBe(true);

    const idA = resultA!.storyId;
    const idB = resultB!.storyId;
    const failed = await stories().getOrThrow(idB);
    expect(failed).toMatchObject({ status: 'failed', failedStep: 'audio', storyStep: 'completed', imagesStep: 'completed', audioStep: 'failed', mergeStep: 'pending' });
    const view = mapStory(failed, { images: await stories().chunkCounts(idB, 'images'), audio: await stories().chunkCounts(idB, 'audio') });
    expect(view.lastCompletedStep).toBe('images');
    expect(view.narrationUrl).toBeNull();

    // Rollback: only finished chunks keep a file (the Sparrow clip); the undecodable Wombat clip is gone.
    const audioB = await stories().audioChunks(idB);
    expect(audioB).toHaveLength(4);
    const finishedClips = audioB.filter((c) => c.status === 'completed');
    expect(finishedClips.map((c) => c.spokenText)).toEqual([expect.stringContaining('Sparrow')]);
    expect(await storage().list(artifactKeys.audioFolder(idB))).toEqual([finishedClips[0]!.storageKey]);
    expect(audioB.filter((c) => c.status !== 'completed').every((c) => c.storageKey === null)).toBe(true);
    const filesB = [...(await storyFiles(idB)).keys()].sort();
    expect(filesB.filter((f) => f.startsWith('audio/'))).toEqual([path.relative(`stories/${idB}`, finishedClips[0]!.storageKey!)]);
    expect(filesB).not.toContain('narration.mp3');
    expect(filesB.some((f) => f.endsWith('.part') || f.endsWith('.wav'))).toBe(false);
    await expectOneFilePerChunk(idA);
    const filesA = await storyFiles(idA);
    // Rolling back again is harmless: nothing more is removed.
    expect(await app.get(RollbackService).rollbackStep(idB, 'audio')).toBe(0);
    expect([...(await storyFiles(idB)).keys()].sort()).toEqual(filesB);
    const speechBeforeRetry = server.requestsTo('speech').length;

    // The provider is back: retry the batch.
    server.setFaultInjector();
    const retry = await recovery().retryBatch(batch.id);
    expect(retry.retried).toEqual([idB]);
    expect(retry.batch.status).toBe('processing');
    const retriedAt = Date.now();
    const done = await batchEnded(batch.id);
    const retryMs = Date.now() - retriedAt;
    expect(done.status).toBe('completed');
    expect(done).toMatchObject({ processedFiles: 2, failedFiles: 0 });
    expect(done.results.map((r) => r.status)).toEqual(['completed', 'completed']);

    // Story A untouched, byte for byte and by mtime.
    expect(await storyFiles(idA)).toEqual(filesA);
    // Story B: one file per chunk; the finished Sparrow clip was not made again.
    const counts = await expectOneFilePerChunk(idB);
    expect(counts).toEqual({ images: 2, audio: 4 });
    const speechAfter = server.requestsTo('speech').slice(speechBeforeRetry);
    expect(speechAfter).toHaveLength(3);
    expect(speechAfter.some((r) => String(r.body.input).includes('Sparrow'))).toBe(false);
    expect(server.requestsTo('images').filter((r) => String(r.body.prompt).includes('Brindle'))).toHaveLength(2);
    const retried = await stories().getOrThrow(idB);
    expect(retried).toMatchObject({ status: 'completed', failedStep: null, error: null, mergeStep: 'completed' });
    expect(await storage().exists(artifactKeys.narration(idB))).toBe(true);

    // A second retry finds nothing to do and changes nothing.
    const runsBefore = await stepRuns([idA, idB]);
    const filesBefore = { a: await storyFiles(idA), b: await storyFiles(idB) };
    const storiesBefore = await stories().listByBatch(batch.id);
    const again = await recovery().retryBatch(batch.id);
    expect(again.retried).toEqual([]);
    await sleep(500);
    expect(await stepRuns([idA, idB])).toHaveLength(runsBefore.length);
    expect(await stories().listByBatch(batch.id)).toEqual(storiesBefore);
    const after = (await app.get(BatchRepository).get(batch.id))!;
    expect({ ...after, updatedAt: undefined }).toEqual({ ...done, updatedAt: undefined });
    expect({ a: await storyFiles(idA), b: await storyFiles(idB) }).toEqual(filesBefore);
    expect(await queueCounts()).toEqual(Object.fromEntries(QUEUE_NAMES.map((n) => [n, 0])));
    console.log(`[recovery 1] failed batch ended in ${failedAfterMs} ms; retry completed in ${retryMs} ms; ${runsBefore.length} step runs`);
  });

  it('1b. a chunk whose answer arrives after its step failed leaves no file behind', async () => {
    // Story B alone. Its "Wombat" clip answers late (1.5 s) with a body that is stored and then
    // cannot be decoded; its other clips fail at once with 503, so the audio step fails for good
    // and the story settles and is rolled back while the Wombat call is still out.
    server.setFaultInjector((request, { route }) => {
      if (route !== 'speech') return undefined;
      const input = String(request.body?.input ?? '');
      if (input.includes('Wombat')) return { ...BROKEN_WAV, delayMs: 1_500 };
      return { kind: 'error', status: 503, message: 'Brindle voice service down' };
    });
    const batch = await runBatch(app, [fileB], { autoMode: CHUNKING, language: 'en', timeoutMs: 60_000 });
    const settledAt = Date.now();
    expect(batch.status).toBe('failed');
    expect(batch.results[0]).toMatchObject({ status: 'failed', failedStep: 'audio' });
    const id = batch.results[0]!.storyId;
    // The late answer comes, is stored, fails to decode; its job's retries then find the step over.
    await waitFor(async () => (server.requestsTo('speech').some((r) => String(r.body.input).includes('Wombat')) && server.stats.inFlight === 0 ? true : undefined), 10_000, 'the late answer');
    await waitFor(async () => (Object.values(await queueCounts()).every((n) => n === 0) ? true : undefined), 10_000, 'the queues to drain');
    await sleep(300);
    const audio = await stories().audioChunks(id);
    const finished = audio.filter((c) => c.status === 'completed').map((c) => c.storageKey);
    const inFolder = await storage().list(artifactKeys.audioFolder(id));
    console.log(`[recovery 1b] story settled failed; ${Date.now() - settledAt} ms later its audio folder holds ${inFolder.map((k) => path.basename(k)).join(', ')}`);
    expect.soft(inFolder).toEqual(finished);

    // A retry starts clean and ends with exactly one file per chunk.
    server.setFaultInjector();
    expect((await recovery().retryBatch(batch.id)).retried).toEqual([id]);
    expect((await batchEnded(batch.id)).status).toBe('completed');
    expect(await expectOneFilePerChunk(id)).toEqual({ images: 2, audio: 4 });
  });

  it('1c. a clip that finishes after its failed step was rolled back is not recorded, and leaves no file', async () => {
    // Story B alone: its clips but "Sparrow" fail at once with 503. The Sparrow clip is made and
    // stored, but its decoding (ffprobe) answers 1.5 s late, after the step has failed for good
    // and the story has settled and been rolled back.
    server.setFaultInjector((request, { route }) => {
      if (route !== 'speech' || String(request.body?.input ?? '').includes('Sparrow')) return undefined;
      return { kind: 'error', status: 503, message: 'Brindle voice service down' };
    });
    await fs.writeFile(slowProbeFlag, '');
    let batch: BatchJob;
    try {
      batch = await runBatch(app, [fileB], { autoMode: CHUNKING, language: 'en', timeoutMs: 60_000 });
    } finally {
      await fs.rm(slowProbeFlag, { force: true });
    }
    expect(batch.status).toBe('failed');
    expect(batch.results[0]).toMatchObject({ status: 'failed', failedStep: 'audio' });
    const id = batch.results[0]!.storyId;
    // Wait until the Sparrow clip's own run has ended (it finishes after the story settled).
    await waitFor(
      async () => {
        const runs = (await stepRuns([id])).filter((r) => r.step === 'audio');
        return runs.length > 0 && runs.every((r) => r.status !== 'running') ? true : undefined;
      },
      15_000,
      'every audio run to end',
    );
    await waitFor(async () => (Object.values(await queueCounts()).every((n) => n === 0) ? true : undefined), 10_000, 'the queues to drain');
    const chunks = await stories().audioChunks(id);
    const sparrow = chunks.find((c) => c.spokenText.includes('Sparrow'))!;
    const inFolder = await storage().list(artifactKeys.audioFolder(id));
    const story = await stories().getOrThrow(id);
    console.log(
      `[recovery 1c] story ${story.status} (audio ${story.audioStep}); clip ${sparrow.index + 1} is ${sparrow.status}; ` +
        `audio folder holds [${inFolder.map((k) => path.basename(k)).join(', ')}]`,
    );
    // The story had ended when the clip came back: the clip is not recorded and its file is gone,
    // so the database and the folder agree (a retry makes it again).
    expect(story.status).toBe('failed');
    expect(sparrow.status).not.toBe('completed');
    expect(inFolder).toEqual(chunks.filter((c) => c.status === 'completed').map((c) => c.storageKey));
    expect(inFolder).toEqual([]);
  });

  it('2. cancelling a running batch stops its work at once; retrying it finishes it', async () => {
    latency(3_000);
    const { batchId, storyIds } = await startBatch([fileA, fileB]);
    // Wait until some chunk's provider call is in flight.
    await waitFor(
      async () => ((server.stats.byRoute.images?.inFlight ?? 0) + (server.stats.byRoute.speech?.inFlight ?? 0) > 0 ? true : undefined),
      20_000,
      'a chunk to be running',
    );
    await sleep(200);
    const runningAtCancel = (await stepRuns(storyIds)).filter((r) => r.status === 'running');
    const inFlightAtCancel = server.stats.inFlight;
    expect(runningAtCancel.length).toBeGreaterThan(0);

    const cancelledAt = Date.now();
    const result = await recovery().cancelBatch(batchId);
    const cancelMs = Date.now() - cancelledAt;
    expect(result.cancelled).toBe(true);
    expect(result.batch.status).toBe('cancelled');

    for (const id of storyIds) {
      const story = await stories().getOrThrow(id);
      expect(story.status).toBe('cancelled');
      const steps = [story.storyStep, story.imagesStep, story.audioStep, story.mergeStep, story.videoStep];
      expect(steps.filter((s) => s === 'pending' || s === 'queued' || s === 'running')).toEqual([]);
      expect(story.imagesStep).toBe('cancelled');
      expect(story.audioStep).toBe('cancelled');
      expect(story.mergeStep).toBe('cancelled');
      expect(story.videoStep).toBe('skipped');
    }

    // The provider calls in flight were aborted (the server's answers were 3 s away).
    await waitFor(async () => (server.stats.inFlight === 0 ? true : undefined), 1_500, 'in-flight requests to be aborted');
    const abortedWithinMs = Date.now() - cancelledAt;
    // No job of the batch is left waiting, running or delayed.
    const drained = await waitFor(
      async () => {
        const counts = await queueCounts();
        return Object.values(counts).every((n) => n === 0) ? counts : undefined;
      },
      5_000,
      'the queues to be empty',
    );
    expect(Object.values(drained).every((n) => n === 0)).toBe(true);

    // Past the server's latency: nothing started after the cancel, nothing is left running.
    await sleep(3_200);
    const runs = await stepRuns(storyIds);
    const lateStarts = runs.filter((r) => r.started_at.getTime() > cancelledAt + 300);
    expect(lateStarts).toEqual([]);
    expect(runs.filter((r) => r.status === 'running')).toEqual([]);
    const runningIds = new Set(runningAtCancel.map((r) => `${r.step}.${r.chunk_index}.${r.started_at.getTime()}`));
    const endedRuns = runs.filter((r) => runningIds.has(`${r.step}.${r.chunk_index}.${r.started_at.getTime()}`));
    expect(endedRuns.every((r) => r.status === 'failed' && r.error === 'Cancelled')).toBe(true);
    // The requests that were cut count as no finished chunk.
    for (const id of storyIds) {
      for (const chunk of [...(await stories().imageChunks(id)), ...(await stories().audioChunks(id))]) expect(chunk.status).not.toBe('completed');
    }

    // A cancelled story's chunk cannot be regenerated.
    const withChunks = (await Promise.all(storyIds.map((id) => stories().imageChunks(id)))).find((chunks) => chunks.length > 0)!;
    const someImage = withChunks[0]!;
    const refused = await rejection(recovery().regenerateChunk('images', someImage.id));
    expect(refused.getStatus()).toBe(409);
    expect(refused.code).toBe('story-cancelled');

    // Cancelling again finds nothing to do and changes nothing.
    const batchBefore = await app.get(BatchRepository).get(batchId);
    const storiesBefore = await stories().listByBatch(batchId);
    const again = await recovery().cancelBatch(batchId);
    expect(again.cancelled).toBe(false);
    expect(again.batch).toEqual(batchBefore);
    expect(await stories().listByBatch(batchId)).toEqual(storiesBefore);

    // Retry: it finishes, one file per chunk.
    server.setFaultInjector();
    const retry = await recovery().retryBatch(batchId);
    expect(retry.retried.sort()).toEqual([...storyIds].sort());
    const done = await batchEnded(batchId);
    expect(done.status).toBe('completed');
    for (const id of storyIds) expect(await expectOneFilePerChunk(id)).toEqual({ images: 2, audio: 4 });
    console.log(
      `[recovery 2] cancel took ${cancelMs} ms with ${runningAtCancel.length} step runs and ${inFlightAtCancel} requests in flight; ` +
        `requests aborted within ${abortedWithinMs} ms`,
    );
  });

  it('3. regenerating one chunk rewrites that file (and the narration for a clip), nothing else', async () => {
    const batch = await runBatch(app, [fileA], { autoMode: CHUNKING, language: 'en', timeoutMs: 60_000 });
    expect(batch.status).toBe('completed');
    const id = batch.results[0]!.storyId;
    const images = await stories().imageChunks(id);
    const audio = await stories().audioChunks(id);
    const rel = (key: string) => path.relative(`stories/${id}`, key);
    const before = await storyFiles(id);
    const runsBefore = await stepRuns([id]);
    const imageRequestsBefore = server.requestsTo('images').length;
    const speechRequestsBefore = server.requestsTo('speech').length;
    await sleep(20); // mtimes must be able to differ

    // Images: chunk 2 again, slowly enough that the step is still busy for the next call.
    latency(800);
    const requested = await recovery().regenerateChunk('images', images[1]!.id);
    expect(requested.status).toBe('processing');
    expect(['queued', 'running']).toContain(requested.imagesStep);
    const busy = await rejection(recovery().regenerateChunk('images', images[0]!.id));
    expect(busy.getStatus()).toBe(409);
    expect(busy.code).toBe('step-running');
    expect((await app.get(BatchRepository).get(batch.id))!.status).toBe('processing');
    await waitFor(async () => ((await stories().getOrThrow(id)).status === 'completed' ? true : undefined), 20_000, 'story to complete');
    expect((await batchEnded(batch.id)).status).toBe('completed');

    const afterImage = await storyFiles(id);
    expect([...afterImage.keys()].sort()).toEqual([...before.keys()].sort());
    const changedByImage = [...afterImage].filter(([name, info]) => info.mtimeMs !== before.get(name)!.mtimeMs).map(([name]) => name);
    expect(changedByImage).toEqual([rel(images[1]!.storageKey!)]);
    const imageRuns = (await stepRuns([id])).slice(runsBefore.length);
    expect(imageRuns.map((r) => `${r.step}:${r.chunk_index}:${r.status}`)).toEqual(['images:1:completed']);
    expect(server.requestsTo('images')).toHaveLength(imageRequestsBefore + 1);
    expect(server.requestsTo('speech')).toHaveLength(speechRequestsBefore);

    // Audio: clip 3 again; the merge runs again, so narration (and subtitles) are rewritten too.
    await sleep(20);
    const requestedClip = await recovery().regenerateChunk('audio', audio[2]!.id);
    expect(requestedClip).toMatchObject({ status: 'processing', mergeStep: 'pending' });
    expect(['queued', 'running']).toContain(requestedClip.audioStep);
    const busyClip = await rejection(recovery().regenerateChunk('audio', audio[0]!.id));
    expect(busyClip.getStatus()).toBe(409);
    expect(busyClip.code).toBe('step-running');
    await waitFor(async () => ((await stories().getOrThrow(id)).status === 'completed' ? true : undefined), 20_000, 'story to complete');
    expect((await batchEnded(batch.id)).status).toBe('completed');
    server.setFaultInjector();

    const afterClip = await storyFiles(id);
    expect([...afterClip.keys()].sort()).toEqual([...before.keys()].sort());
    const changedByClip = [...afterClip].filter(([name, info]) => info.mtimeMs !== afterImage.get(name)!.mtimeMs).map(([name]) => name).sort();
    expect(changedByClip).toContain(rel(audio[2]!.storageKey!));
    expect(changedByClip).toContain('narration.mp3');
    const untouched = [...images.map((c) => rel(c.storageKey!)), ...audio.filter((c) => c.index !== 2).map((c) => rel(c.storageKey!))];
    expect(changedByClip.filter((name) => untouched.includes(name))).toEqual([]);
    const clipRuns = (await stepRuns([id])).slice(runsBefore.length + imageRuns.length);
    expect(clipRuns.map((r) => `${r.step}:${r.chunk_index}:${r.status}`)).toEqual(['audio:2:completed', 'merge:null:completed']);
    expect(await expectOneFilePerChunk(id)).toEqual({ images: 2, audio: 4 });
    console.log(`[recovery 3] image regeneration changed ${changedByImage.join(', ')}; clip regeneration changed ${changedByClip.join(', ')}`);
  });

  /**
   * Scenario 4: starts a two-story batch whose answers take 0.4–1.9 s and whose first speech
   * request is told to come back in 30 s (503, Retry-After), so that when every job in Redis is
   * lost some chunks are done, some running and one is waiting (delayed). Optionally waits until
   * the calls in flight have ended (as when the reconciler's timer finds the loss later), then
   * runs one reconciler pass and waits for the batch.
   */
  async function loseJobsAndReconcile(options: { waitForInFlight: boolean }) {
    // An overload (503) rather than a 429: a 429 rests the whole API key (every speech job would
    // wait), while an overload with Retry-After delays only the job that met it.
    server.enqueue('speech', { kind: 'error', status: 503, message: 'The server is overloaded', headers: { 'retry-after': '30' } });
    server.setFaultInjector((_request, { route, index }) =>
      route === 'images' || route === 'speech' ? { kind: 'default', delayMs: 400 + (index % 4) * 500 } : undefined,
    );
    const { batchId, storyIds } = await startBatch([fileA, fileB]);
    await waitFor(
      async () => {
        const runs = await stepRuns(storyIds);
        const limited = runs.some((r) => r.step === 'audio' && r.error?.includes('503'));
        return limited && runs.some((r) => r.step === 'audio' && r.status === 'completed') && runs.some((r) => r.status === 'running') ? true : undefined;
      },
      20_000,
      'chunks to be done, running and delayed',
    );
    const before = await stepRuns(storyIds);
    const delayedBefore = await app.get(QueueRepository).count('audio-generation');
    const lostAt = Date.now();
    await app.get(QueueRepository).obliterate();
    expect(await queueCounts()).toEqual(Object.fromEntries(QUEUE_NAMES.map((n) => [n, 0])));
    let stuck: BatchJob | undefined;
    if (options.waitForInFlight) {
      await waitFor(async () => (server.stats.inFlight === 0 ? true : undefined), 10_000, 'in-flight calls to end');
      await waitFor(async () => ((await stepRuns(storyIds)).some((r) => r.status === 'running') ? undefined : true), 10_000, 'running steps to end');
      // What the ended calls queued next (a merge, an auto-mode decision) runs out too …
      await waitFor(async () => (Object.values(await queueCounts()).every((n) => n === 0) ? true : undefined), 15_000, 'the queues to drain');
      await sleep(500);
      // … and then nothing moves any more: the rate-limited chunk's job is gone.
      stuck = await app.get(BatchRepository).get(batchId);
      expect(stuck!.status).toBe('processing');
      expect(Object.values(await queueCounts()).every((n) => n === 0)).toBe(true);
    }
    const reconciledAt = Date.now();
    const report = await app.get(ReconcilerService).reconcile();
    const done = await batchEnded(batchId);
    server.setFaultInjector();
    return { batchId, storyIds, before, delayedBefore, lostAt, reconciledAt, report, done, recoveredMs: Date.now() - lostAt };
  }

  /** Step runs that succeeded more than once for the same story, step and chunk: key → how they ran. */
  function succeededTwice(runs: StepRunRow[], since: number): Array<[string, string[]]> {
    const key = (r: StepRunRow) => `${r.story_id.slice(0, 8)}:${r.step}:${r.chunk_index}`;
    const byKey = new Map<string, StepRunRow[]>();
    for (const run of runs.filter((r) => r.status === 'completed')) byKey.set(key(run), [...(byKey.get(key(run)) ?? []), run]);
    return [...byKey]
      .filter(([, list]) => list.length > 1)
      .map(([k, list]) => [k, list.map((r) => `${r.started_at.getTime() - since}..${r.finished_at!.getTime() - since} ms`)]);
  }

  /** Images and speech asked of the provider more than once (the request answered 503 aside). */
  function duplicateProviderCalls(): string[] {
    const asked = [
      ...server.requestsTo('images').map((r) => `image: ${String(r.body.prompt).split('\n')[0]}`),
      ...server.requestsTo('speech').slice(1).map((r) => `speech: ${String(r.body.input)}`),
    ];
    return asked.filter((what, i) => asked.indexOf(what) !== i);
  }

  it('4. when Redis loses every job, the reconciler rebuilds them from the database and the batch completes', async () => {
    const { storyIds, before, delayedBefore, lostAt, report, done, recoveredMs } = await loseJobsAndReconcile({ waitForInFlight: true });
    // Story A may have finished meanwhile; story B (or both) is unfinished, and jobs were rebuilt.
    expect(report.storiesChecked).toBeGreaterThanOrEqual(1);
    expect(report.jobsRebuilt).toBeGreaterThan(0);
    expect(done.status).toBe('completed');
    for (const id of storyIds) expect(await expectOneFilePerChunk(id)).toEqual({ images: 2, audio: 4 });

    // Work recorded as done before the loss was not done again; no chunk or step succeeded twice.
    const runs = await stepRuns(storyIds);
    const key = (r: StepRunRow) => `${r.story_id}:${r.step}:${r.chunk_index}`;
    const doneBefore = new Set(before.filter((r) => r.status === 'completed').map(key));
    expect(runs.filter((r) => r.started_at.getTime() >= lostAt && doneBefore.has(key(r)))).toEqual([]);
    expect(succeededTwice(runs, lostAt)).toEqual([]);
    expect(duplicateProviderCalls()).toEqual([]);
    console.log(
      `[recovery 4] lost ${delayedBefore} audio jobs (running or delayed) with ${doneBefore.size} step runs done and ${before.filter((r) => r.status === 'running').length} running; ` +
        `rebuilt ${report.jobsRebuilt} jobs; batch completed ${recoveredMs} ms after the loss`,
    );
  });

  it('4b. a reconciler pass while the lost chunks are still running does not run them a second time', async () => {
    const { storyIds, before, lostAt, reconciledAt, report, done, recoveredMs } = await loseJobsAndReconcile({ waitForInFlight: false });
    expect(report.jobsRebuilt).toBeGreaterThan(0);
    expect(done.status).toBe('completed');
    for (const id of storyIds) expect(await expectOneFilePerChunk(id)).toEqual({ images: 2, audio: 4 });
    const runs = await stepRuns(storyIds);
    const key = (r: StepRunRow) => `${r.story_id}:${r.step}:${r.chunk_index}`;
    const doneBefore = new Set(before.filter((r) => r.status === 'completed').map(key));
    // Chunks finished before the loss are not run again (this holds) …
    expect(runs.filter((r) => r.started_at.getTime() >= lostAt && doneBefore.has(key(r)))).toEqual([]);
    const twice = succeededTwice(runs, lostAt);
    const duplicates = duplicateProviderCalls();
    console.log(
      `[recovery 4b] ${before.filter((r) => r.status === 'running').length} chunks running at the loss; reconciled ${reconciledAt - lostAt} ms after it, ` +
        `rebuilt ${report.jobsRebuilt} jobs; completed after ${recoveredMs} ms; ${twice.length} chunks succeeded twice, ` +
        `${duplicates.length} provider calls made twice`,
    );
    for (const [what, how] of twice) console.log(`[recovery 4b]   ${what} succeeded twice: ${how.join(' and ')}`);
    // … but chunks that were running when the jobs were lost must not be run a second time either.
    expect(duplicates).toEqual([]);
    expect(twice).toEqual([]);
  });

  it('5. a 429 with Retry-After puts the chunk back for at least that long without using an attempt', async () => {
    server.enqueue('images', { kind: 'error', status: 429, message: 'Rate limit reached', headers: { 'retry-after': '1' } });
    const batch = await runBatch(app, [fileA], { autoMode: CHUNKING, language: 'en', timeoutMs: 60_000 });
    expect(batch.status).toBe('completed');
    const id = batch.results[0]!.storyId;

    const requests = server.requestsTo('images');
    const [limited] = requests;
    const again = requests.filter((r) => r.id !== limited!.id && r.body.prompt === limited!.body.prompt);
    expect(again).toHaveLength(1);
    const waitedMs = again[0]!.receivedAt - limited!.receivedAt;
    expect(waitedMs).toBeGreaterThanOrEqual(1_000);

    const chunk = (await stories().imageChunks(id)).find((c) => String(limited!.body.prompt).startsWith(c.prompt))!;
    expect(chunk).toBeDefined();
    const runs = (await stepRuns([id])).filter((r) => r.step === 'images' && r.chunk_index === chunk.index);
    expect(runs.map((r) => ({ attempt: r.attempt, status: r.status }))).toEqual([
      { attempt: 1, status: 'failed' },
      { attempt: 1, status: 'completed' },
    ]);
    expect(runs[0]!.error).toMatch(/429/);
    expect(runs[0]!.error).toMatch(/Retry-After: 1/);
    await expectOneFilePerChunk(id);
    console.log(`[recovery 5] the rate-limited image chunk ran again ${waitedMs} ms later`);
  });
});
