import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE, type DatabaseConnection } from '../../../src/db/database.js';
import { type HttpTestApp, startHttpTestApp } from '../../support/http-app.js';

/** Statements one authenticated status request may send: the credential's (two), then the batch with its stories (one). */
const MAX_QUERIES_PER_STATUS = 3;

describe('GET /stories/batch/:id/status costs the same few queries whatever the batch size', () => {
  let t: HttpTestApp;
  let token: string;
  let queries = 0;

  beforeAll(async () => {
    t = await startHttpTestApp({ workers: false }); // the batches stay as they were made
    ({ token } = await t.api.register('status-cost@example.com'));
    const pool = ((t.app.get(DATABASE) as DatabaseConnection).db as unknown as { $client: { query: (...args: unknown[]) => unknown } }).$client;
    const query = pool.query.bind(pool);
    pool.query = (...args: unknown[]) => {
      queries++;
      return query(...args);
    };
  }, 60_000);

  afterAll(async () => t?.close(), 60_000);

  /** Makes a batch of `n` stories (one upload each); returns its id. */
  const batchOf = async (n: number): Promise<string> => {
    const files = Array.from({ length: n }, (_, i) => ({ name: `story-${i + 1}.txt`, bytes: Buffer.from(`Story ${i + 1}\n\nOnce upon a time there was a lantern number ${i + 1}. It shone.`) }));
    const uploaded = await t.api.uploadFiles(token, files);
    expect(uploaded.status).toBe(201);
    const created = await t.api.post('/stories/batch-create', { token, json: { fileIds: uploaded.body.files.map((f: { id: string }) => f.id) } });
    expect(created.status).toBe(202);
    return created.body.batchId as string;
  };

  /** Sends one status request; returns its answer and the statements it sent. */
  const status = async (batchId: string) => {
    const before = queries;
    const answer = await t.api.get(`/stories/batch/${batchId}/status`, { token });
    return { answer, queries: queries - before };
  };

  it('one story and ten stories take the same statements, at most three', async () => {
    const small = await status(await batchOf(1));
    const large = await status(await batchOf(10));
    expect(small.answer.status).toBe(200);
    expect(large.answer.status).toBe(200);
    expect(large.answer.body.stories).toHaveLength(10);
    expect(large.answer.body.stories.map((s: { file: string }) => s.file)).toEqual(Array.from({ length: 10 }, (_, i) => `story-${i + 1}.txt`));
    expect(large.answer.body.stories[0]).toMatchObject({ images: { done: 0, total: 0 }, audio: { done: 0, total: 0 } });
    expect(large.queries).toBe(small.queries);
    expect(large.queries).toBeLessThanOrEqual(MAX_QUERIES_PER_STATUS);
  }, 60_000);
});
