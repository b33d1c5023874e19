import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoryRepository } from '../../../src/repositories/story.repository.js';
import { runBatch } from '../../support/batches.js';
import { sample } from '../../support/samples.js';
import { startTestApp, type TestApp } from '../../support/test-app.js';

describe('a batch where one story cannot be made', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    t = await startTestApp({ database: 'postgres' });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-fail-'));
  });
  afterAll(async () => {
    await t?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('ends partially_completed and says which story failed at which step and why', async () => {
    const titleOnly = path.join(dir, 'only-symbols.txt');
    await fs.writeFile(titleOnly, '* * *\n\n— — —\n');
    const batch = await runBatch(t.app, [sample('stories/vi/vi_thanh_giong.txt'), titleOnly]);

    expect(batch.status).toBe('partially_completed');
    expect(batch).toMatchObject({ processedFiles: 1, failedFiles: 1 });
    const [good, bad] = batch.results;
    expect(good).toMatchObject({ file: 'vi_thanh_giong.txt', status: 'completed' });
    expect(bad).toMatchObject({ file: 'only-symbols.txt', status: 'failed', failedStep: 'story' });
    expect(bad!.error).toMatch(/no words to narrate/i);

    const failed = await t.app.get(StoryRepository).getOrThrow(bad!.storyId);
    expect(failed).toMatchObject({ status: 'failed', storyStep: 'failed', failedStep: 'story' });
    // Nothing after the failed step was started.
    expect([failed.imagesStep, failed.audioStep, failed.mergeStep]).toEqual(['pending', 'pending', 'pending']);
  });

  it('fails a story whose language has no voice, without retrying, and still finishes its images', async () => {
    const batch = await runBatch(t.app, [sample('stories/vi/vi_su_tich_cay_thi_la.txt')], { language: 'xx' });
    expect(batch.status).toBe('failed');
    expect(batch.results[0]).toMatchObject({ status: 'failed', failedStep: 'audio' });
    expect(batch.results[0]!.error).toMatch(/xx/);
    const story = await t.app.get(StoryRepository).getOrThrow(batch.results[0]!.storyId);
    // Merge needs the audio, so it never started; the images, made side by side, were finished.
    expect(story).toMatchObject({ audioStep: 'failed', mergeStep: 'pending', imagesStep: 'completed' });
    const images = await t.app.get(StoryRepository).imageChunks(story.id);
    expect(images.every((c) => c.status === 'completed')).toBe(true);
  });
});
