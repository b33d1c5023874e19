/**
 * A job whose payload does not match its queue's schema (written by another version, or by hand
 * in Redis) fails at once with a reason that names what is wrong, without a retry; the worker
 * lives on and runs the next batch.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueRepository } from '../../../src/repositories/queue.repository.js';
import { runBatch } from '../../support/batches.js';
import { startTestApp, type TestApp, waitFor } from '../../support/test-app.js';

describe('a job with a malformed payload', () => {
  let t: TestApp;
  let inputDir: string;

  beforeAll(async () => {
    t = await startTestApp({ database: 'postgres' });
    inputDir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-malformed-'));
  });
  afterAll(async () => {
    await t?.close();
    if (inputDir) await fs.rm(inputDir, { recursive: true, force: true });
  });

  it('fails that job with the reason, without a retry, and the worker goes on', async () => {
    const queue = t.app.get(QueueRepository).allQueues().find((q) => q.name === 'image-generation')!;
    const job = await queue.add('image-generation', { storyId: 'a-story', chunkIndex: 'first' }, { jobId: 'hand-written-1', attempts: 3 });

    const state = await waitFor(async () => {
      const current = await queue.getJob(job.id!);
      const s = await current?.getState();
      return s === 'failed' ? current : undefined;
    }, 60_000, 'the malformed job to fail');
    expect(state.failedReason).toMatch(/malformed payload \(chunkIndex: .+\)/);
    expect(state.attemptsMade).toBe(1);

    const file = path.join(inputDir, 'lamp.txt');
    await fs.writeFile(file, 'The Lamp\n\nA lamp burned in the window all night, and in the morning the ship came home.\n');
    const batch = await runBatch(t.app, [file], { language: 'en', timeoutMs: 120_000 });
    expect(batch.status).toBe('completed');
  });
});
