import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkStepRunner } from '../../../src/pipeline/steps/chunk-step.runner.js';
import { MergeStep } from '../../../src/pipeline/steps/merge.step.js';
import { StoryStep } from '../../../src/pipeline/steps/story.step.js';
import { QueueRepository } from '../../../src/repositories/queue.repository.js';
import { artifactKeys, StorageRepository } from '../../../src/repositories/storage.repository.js';
import { StoryRepository } from '../../../src/repositories/story.repository.js';
import { runBatch } from '../../support/batches.js';
import { sample } from '../../support/samples.js';
import { startTestApp, type TestApp } from '../../support/test-app.js';

describe('running a step again for the same story', () => {
  let t: TestApp;
  let storyId: string;
  beforeAll(async () => {
    // Steps are run by hand below, as after a crash: a reconciler pass meanwhile would (rightly)
    // queue the same work for the app's workers and race with them.
    t = await startTestApp({ database: 'postgres', env: { RECONCILE_INTERVAL_MS: '0' } });
    const batch = await runBatch(t.app, [sample('stories/vi/vi_su_tich_cay_thi_la.txt')], {
      autoMode: { wordPerChunkImage: 60, wordPerChunkAudio: 30 },
    });
    expect(batch.status).toBe('completed');
    storyId = batch.results[0]!.storyId;
  });
  afterAll(async () => t?.close());

  async function counts() {
    const stories = t.app.get(StoryRepository);
    const storage = t.app.get(StorageRepository);
    return {
      imageChunks: (await stories.imageChunks(storyId)).length,
      audioChunks: (await stories.audioChunks(storyId)).length,
      imageFiles: (await storage.list(artifactKeys.imagesFolder(storyId))).length,
      clipFiles: (await storage.list(artifactKeys.audioFolder(storyId))).length,
      storyFiles: (await storage.list(artifactKeys.story(storyId))).length,
    };
  }

  it('leaves the same chunks and files when every step runs twice more', async () => {
    const before = await counts();
    expect(before.imageChunks).toBeGreaterThan(1);
    expect(before.audioChunks).toBeGreaterThan(before.imageChunks);
    expect(before).toMatchObject({ imageFiles: before.imageChunks, clipFiles: before.audioChunks });
    expect(before.storyFiles).toBeGreaterThanOrEqual(1); // narration.mp3, and subtitles when made

    const stories = t.app.get(StoryRepository);
    for (let round = 0; round < 2; round++) {
      // As after a crash mid-step: the step is marked running again and its chunks pending.
      await stories.update(storyId, { status: 'processing', storyStep: 'running' });
      await t.app.get(StoryStep).run(storyId);
      await stories.update(storyId, { imagesStep: 'queued', audioStep: 'queued', mergeStep: 'queued' });
      for (const chunk of await stories.imageChunks(storyId)) await t.app.get(ChunkStepRunner).run('images', storyId, chunk.index);
      for (const chunk of await stories.audioChunks(storyId)) await t.app.get(ChunkStepRunner).run('audio', storyId, chunk.index);
      await t.app.get(MergeStep).run(storyId);
      expect(await counts()).toEqual(before);
    }
    const story = await stories.getOrThrow(storyId);
    expect([story.imagesStep, story.audioStep, story.mergeStep]).toEqual(['completed', 'completed', 'completed']);
  });

  it('skips a chunk whose artifact is already stored', async () => {
    const stories = t.app.get(StoryRepository);
    const storage = t.app.get(StorageRepository);
    const chunk = (await stories.imageChunks(storyId))[0]!;
    const before = (await storage.read(chunk.storageKey!)).length;
    await storage.write(chunk.storageKey!, new Uint8Array([1, 2, 3]));
    await stories.update(storyId, { imagesStep: 'queued' });
    await t.app.get(ChunkStepRunner).run('images', storyId, 0);
    // Completed and present: not generated again (the stand-in bytes stay).
    expect((await storage.read(chunk.storageKey!)).length).toBe(3);
    expect(before).toBeGreaterThan(3);
  });

  it('adds one job for the same work however often it is asked', async () => {
    // A queue with no worker, so the jobs stay to be counted.
    const queues = new QueueRepository({ ...t.config, queuePrefix: `${t.config.queuePrefix}-idle` });
    try {
      await Promise.all([1, 2, 3].map(() => queues.add('audio-merge', { storyId })));
      await queues.add('image-generation', { storyId, chunkIndex: 0 });
      await queues.add('image-generation', { storyId, chunkIndex: 0 });
      await queues.add('image-generation', { storyId, chunkIndex: 1 });
      expect(await queues.count('audio-merge')).toBe(1);
      expect(await queues.count('image-generation')).toBe(2);
    } finally {
      await queues.obliterate();
      await queues.onModuleDestroy();
    }
  });
});
