/**
 * The reconciler closes a chunked step whose chunks are all done only when no worker is still
 * closing it. A worker records its chunk and then closes the step itself; a reconciler pass that
 * falls between the two must leave the step to that worker (else the step is closed twice over and
 * the pass reports a "missing" job that was never missing). When the worker died between the two,
 * its run's heartbeat stops and the next pass closes the step. A long run (a merge) whose heartbeat
 * is fresh is never queued again, however long ago it started; once its heartbeat stops, it is.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE, type DatabaseConnection } from '../../../src/db/database.js';
import { stepRuns } from '../../../src/db/schema.js';
import { QueueRepository } from '../../../src/repositories/queue.repository.js';
import { StepRunRepository } from '../../../src/repositories/step-run.repository.js';
import { StoryRepository } from '../../../src/repositories/story.repository.js';
import { ReconcilerService } from '../../../src/services/reconciler.service.js';
import { runBatch } from '../../support/batches.js';
import { startTestApp, type TestApp, waitFor } from '../../support/test-app.js';

/** One clip, one image: the audio step's only chunk is its last. */
const STORY = 'The Bell\n\nA small bell rang over the harbour at dawn, and the boats went out.\n';

describe('the reconciler and a step whose last chunk has just been recorded', () => {
  let t: TestApp;
  let inputDir: string;
  let file: string;

  beforeAll(async () => {
    // Passes run only when the test calls them.
    t = await startTestApp({ database: 'pglite', env: { RECONCILE_INTERVAL_MS: '0' } });
    inputDir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-reconcile-live-'));
    file = path.join(inputDir, 'bell.txt');
    await fs.writeFile(file, STORY);
  });
  afterAll(async () => {
    await t?.close();
    if (inputDir) await fs.rm(inputDir, { recursive: true, force: true });
  });

  it('leaves the step to its live worker, which closes it; the story completes', async () => {
    const stories = t.app.get(StoryRepository);
    const reconciler = t.app.get(ReconcilerService);
    const original = stories.completeStepIfAllChunksDone.bind(stories);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let held: ((storyId: string) => void) | undefined;
    const reached = new Promise<string>((resolve) => (held = resolve));
    let workerClosed: boolean | undefined;
    // The worker's own call, made once it has recorded the clip, waits until the reconciler pass is over.
    stories.completeStepIfAllChunksDone = async (id, step) => {
      const recorded = step === 'audio' && (await stories.audioChunks(id)).every((chunk) => chunk.status === 'completed');
      if (!recorded || !held) return original(id, step);
      const first = held;
      held = undefined;
      first(id);
      await gate;
      workerClosed = await original(id, step);
      return workerClosed;
    };
    try {
      const batch = runBatch(t.app, [file], { autoMode: { wordPerChunkAudio: 200, wordPerChunkImage: 200 } });
      const storyId = await reached;
      const report = await reconciler.reconcile();
      expect(report.jobsRebuilt).toBe(0);
      expect((await stories.getOrThrow(storyId)).audioStep).toBe('running');
      release();
      expect((await batch).status).toBe('completed');
      expect(workerClosed).toBe(true);
    } finally {
      release();
      stories.completeStepIfAllChunksDone = original;
    }
  });

  it('closes the step itself when the worker died after recording the last chunk', async () => {
    const stories = t.app.get(StoryRepository);
    const batch = await runBatch(t.app, [file], { autoMode: { wordPerChunkAudio: 200, wordPerChunkImage: 200 } });
    const storyId = batch.results[0]!.storyId;
    // The state a worker leaves when it dies between recording the clip and closing the step.
    await stories.update(storyId, { status: 'processing', completedAt: null, audioStep: 'running', mergeStep: 'pending' });
    const runId = await t.app.get(StepRunRepository).start({ storyId, step: 'audio', chunkIndex: 0, attempt: 1 });
    // Its run is still `running`, but its heartbeat stopped long ago (its worker died).
    const { db } = t.app.get<DatabaseConnection>(DATABASE);
    await db.update(stepRuns).set({ heartbeatAt: new Date(Date.now() - 24 * 3600 * 1000) }).where(eq(stepRuns.id, runId));

    const report = await t.app.get(ReconcilerService).reconcile();
    expect(report.jobsRebuilt).toBe(1);
    const finished = await waitFor(async () => {
      const story = await stories.getOrThrow(storyId);
      return story.status === 'completed' ? story : undefined;
    }, 120_000, 'the story to complete again');
    expect(finished).toMatchObject({ audioStep: 'completed', mergeStep: 'completed' });
  });

  it('never queues a merge whose heartbeat is fresh, however old; queues it once the heartbeat stops, and the story finishes', async () => {
    const stories = t.app.get(StoryRepository);
    const queues = t.app.get(QueueRepository);
    const { db } = t.app.get<DatabaseConnection>(DATABASE);
    const batch = await runBatch(t.app, [file], { autoMode: { wordPerChunkAudio: 200, wordPerChunkImage: 200 } });
    const storyId = batch.results[0]!.storyId;
    const merges = async () => (await db.select().from(stepRuns).where(and(eq(stepRuns.storyId, storyId), eq(stepRuns.step, 'merge'), eq(stepRuns.status, 'completed')))).length;
    const mergedBefore = await merges();
    // A merge that has been running for an hour on a live worker, whose job Redis lost.
    await stories.update(storyId, { status: 'processing', completedAt: null, mergeStep: 'running' });
    await queues.remove('audio-merge', { storyId });
    const runId = await t.app.get(StepRunRepository).start({ storyId, step: 'merge', attempt: 1 });
    const hourAgo = new Date(Date.now() - 3600 * 1000);
    await db.update(stepRuns).set({ startedAt: hourAgo }).where(eq(stepRuns.id, runId));

    const whileAlive = await t.app.get(ReconcilerService).reconcile();
    expect(whileAlive.jobsRebuilt).toBe(0);
    expect(await queues.find('audio-merge', { storyId })).toBeUndefined();

    // Its worker is killed: the heartbeat stops.
    await db.update(stepRuns).set({ heartbeatAt: hourAgo }).where(eq(stepRuns.id, runId));
    const afterDeath = await t.app.get(ReconcilerService).reconcile();
    expect(afterDeath.jobsRebuilt).toBe(1);
    const finished = await waitFor(async () => {
      const story = await stories.getOrThrow(storyId);
      return story.status === 'completed' ? story : undefined;
    }, 120_000, 'the story to complete again');
    expect(finished.mergeStep).toBe('completed');
    expect(await merges()).toBe(mergedBefore + 1); // merged once more
  });
});
