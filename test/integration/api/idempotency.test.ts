import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { count, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE, type DatabaseConnection } from '../../../src/db/database.js';
import { batchJobs, idempotencyKeys, stories } from '../../../src/db/schema.js';
import type { ApiAnswer } from '../../support/http-app.js';
import { type HttpTestApp, startHttpTestApp } from '../../support/http-app.js';
import { sampleBytes } from '../../support/samples.js';

interface User {
  token: string;
  userId: string;
  uploads: string[];
}

describe('Idempotency-Key on POST /stories/batch-create and POST /stories', () => {
  let t: HttpTestApp;
  let a: User;
  let b: User;

  const db = () => t.app.get<DatabaseConnection>(DATABASE).db;
  const batchCount = async (user: User) => (await db().select({ n: count() }).from(batchJobs).where(eq(batchJobs.userId, user.userId)))[0]!.n;
  const storyCount = async (user: User) => (await db().select({ n: count() }).from(stories).where(eq(stories.userId, user.userId)))[0]!.n;
  /** Moves a key's row into the past, as if it had been made `hours` ago. */
  const age = (user: User, key: string, hours: number) =>
    db()
      .update(idempotencyKeys)
      .set({ createdAt: sql`now() - ${`${hours} hours`}::interval` })
      .where(sql`${idempotencyKeys.userId} = ${user.userId} and ${idempotencyKeys.key} = ${key}`);

  const batchCreate = (user: User, json: unknown, key?: string) =>
    t.api.post('/stories/batch-create', { token: user.token, json, headers: key === undefined ? {} : { 'idempotency-key': key } });
  const storyCreate = (user: User, json: unknown, key?: string) =>
    t.api.post('/stories', { token: user.token, json, headers: key === undefined ? {} : { 'idempotency-key': key } });
  const replayed = (answer: ApiAnswer) => answer.headers.get('idempotent-replayed');

  async function makeUser(email: string): Promise<User> {
    const { token, userId } = await t.api.register(email);
    const uploaded = await t.api.uploadFiles(token, [
      { name: 'vi_su_tich_cay_thi_la.txt', bytes: sampleBytes('stories/vi/vi_su_tich_cay_thi_la.txt') },
      { name: 'vi_thanh_giong.txt', bytes: sampleBytes('stories/vi/vi_thanh_giong.txt') },
    ]);
    expect(uploaded.status).toBe(201);
    return { token, userId, uploads: uploaded.body.files.map((file: { id: string }) => file.id) };
  }

  beforeAll(async () => {
    t = await startHttpTestApp({ workers: false });
    a = await makeUser('idem-a@example.com');
    b = await makeUser('idem-b@example.com');
  });
  afterAll(async () => t?.close());

  describe('batch-create', () => {
    it('answers the same batch for the same key and body, with the same status and shape, and makes one batch', async () => {
      const key = randomUUID();
      const before = await batchCount(a);
      const body = { fileIds: a.uploads, language: 'vi', autoMode: { enabled: true, wordPerChunkImage: 200 } };
      const first = await batchCreate(a, body, key);
      expect(first.status).toBe(202);
      expect(replayed(first)).toBeNull();
      // The same request, its fields in another order.
      const second = await batchCreate(a, { autoMode: { wordPerChunkImage: 200, enabled: true }, language: 'vi', fileIds: a.uploads }, key);
      expect(second.status).toBe(202);
      expect(replayed(second)).toBe('true');
      expect(second.body.batchId).toBe(first.body.batchId);
      expect(Object.keys(second.body).sort()).toEqual(Object.keys(first.body).sort());
      expect(second.body).toEqual({ ...first.body, status: expect.any(String) });
      expect(second.body.stories.map((s: { id: string }) => s.id)).toEqual(first.body.stories.map((s: { id: string }) => s.id));

      expect(await batchCount(a)).toBe(before + 1);
      const listed = await t.api.get(`/stories?batchId=${first.body.batchId}`, { token: a.token });
      expect(listed.body.total).toBe(2);
      const status = await t.api.get(`/stories/batch/${first.body.batchId}/status`, { token: a.token });
      expect(status.body).toMatchObject({ id: first.body.batchId, totalFiles: 2 });
    });

    it('answers 409 idempotency-key-reused for the same key with another body, and makes nothing', async () => {
      const key = randomUUID();
      const first = await batchCreate(a, { fileIds: [a.uploads[0]] }, key);
      expect(first.status).toBe(202);
      const before = await batchCount(a);
      for (const other of [{ fileIds: [a.uploads[1]] }, { fileIds: [a.uploads[0]], language: 'en' }, { fileIds: [a.uploads[0]], autoMode: { enabled: false } }]) {
        const answer = await batchCreate(a, other, key);
        expect(answer.status).toBe(409);
        expect(answer.body).toEqual({ statusCode: 409, code: 'idempotency-key-reused', message: expect.stringMatching(/different request body.*new key/) });
      }
      expect(await batchCount(a)).toBe(before);
      // The original request is still answered.
      const again = await batchCreate(a, { fileIds: [a.uploads[0]] }, key);
      expect(again.body.batchId).toBe(first.body.batchId);
    });

    it('makes exactly one batch for two identical requests sent at once', async () => {
      const before = await batchCount(a);
      const keys = Array.from({ length: 6 }, () => randomUUID());
      const pairs = await Promise.all(keys.map((key) => Promise.all([batchCreate(a, { fileIds: a.uploads }, key), batchCreate(a, { fileIds: a.uploads }, key)])));
      for (const answers of pairs) {
        const made = answers.filter((answer) => answer.status === 202 && replayed(answer) === null);
        expect(made).toHaveLength(1);
        const other = answers.find((answer) => answer !== made[0])!;
        if (other.status === 202) {
          expect(replayed(other)).toBe('true');
          expect(other.body.batchId).toBe(made[0]!.body.batchId);
        } else {
          expect(other.status).toBe(409);
          expect(other.body.code).toBe('idempotency-request-in-progress');
        }
      }
      expect(await batchCount(a)).toBe(before + keys.length);
    });

    it('keeps keys apart per user: two users may use the same key', async () => {
      const key = randomUUID();
      const ofA = await batchCreate(a, { fileIds: [a.uploads[0]] }, key);
      const ofB = await batchCreate(b, { fileIds: [b.uploads[0]] }, key);
      expect([ofA.status, ofB.status]).toEqual([202, 202]);
      expect(replayed(ofB)).toBeNull();
      expect(ofB.body.batchId).not.toBe(ofA.body.batchId);
      expect((await t.api.get(`/stories/batch/${ofB.body.batchId}/status`, { token: b.token })).status).toBe(200);
      // The same body as A's (A's upload) is B's own request: 404 for the upload, not A's batch.
      const foreign = await batchCreate(b, { fileIds: [a.uploads[0]] }, randomUUID());
      expect(foreign.status).toBe(404);
    });

    it('refuses an invalid key with 400 invalid-idempotency-key and makes nothing', async () => {
      const before = await batchCount(a);
      for (const key of ['x'.repeat(256), 'tab\there', '']) {
        const answer = await batchCreate(a, { fileIds: [a.uploads[0]] }, key);
        expect(answer.status, JSON.stringify(key)).toBe(400);
        expect(answer.body).toEqual({ statusCode: 400, code: 'invalid-idempotency-key', message: expect.stringContaining('printable ASCII') });
      }
      expect(await batchCount(a)).toBe(before);
      // Sent twice, the header is refused rather than joined into one key (`a, b`).
      const twice = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = http.request(`${t.baseUrl}/stories/batch-create`, {
          method: 'POST',
          headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json', 'idempotency-key': ['a', 'b'] },
        });
        request.on('response', (response) => {
          let body = '';
          response.on('data', (d) => (body += d));
          response.on('end', () => resolve({ status: response.statusCode!, body }));
        });
        request.on('error', reject);
        request.end(JSON.stringify({ fileIds: [a.uploads[0]] }));
      });
      expect([twice.status, JSON.parse(twice.body).code]).toEqual([400, 'invalid-idempotency-key']);
      expect(await batchCount(a)).toBe(before);
      const longest = await batchCreate(a, { fileIds: [a.uploads[0]] }, `${'k'.repeat(250)} ~!@#`);
      expect(longest.status).toBe(202);
    });

    it('forgets the key when the first request fails, so that it may be retried', async () => {
      const key = randomUUID();
      const body = { fileIds: [randomUUID()] };
      expect((await batchCreate(a, body, key)).status).toBe(404);
      expect((await batchCreate(a, body, key)).status).toBe(404);
      const fixed = await batchCreate(a, { fileIds: [a.uploads[0]] }, key);
      expect(fixed.status).toBe(202);
      expect(replayed(fixed)).toBeNull();
    });

    it('treats a key older than 24 h as unused', async () => {
      const key = randomUUID();
      const first = await batchCreate(a, { fileIds: [a.uploads[0]] }, key);
      await age(a, key, 23);
      expect((await batchCreate(a, { fileIds: [a.uploads[0]] }, key)).body.batchId).toBe(first.body.batchId);
      expect((await batchCreate(a, { fileIds: [a.uploads[1]] }, key)).status).toBe(409);
      await age(a, key, 25);
      const before = await batchCount(a);
      const later = await batchCreate(a, { fileIds: [a.uploads[1]] }, key);
      expect(later.status).toBe(202);
      expect(replayed(later)).toBeNull();
      expect(later.body.batchId).not.toBe(first.body.batchId);
      expect(await batchCount(a)).toBe(before + 1);
      // From now on the key stands for the new request.
      expect((await batchCreate(a, { fileIds: [a.uploads[1]] }, key)).body.batchId).toBe(later.body.batchId);
    });

    it('answers 409 in progress while the first request has not finished, and frees a key whose request died', async () => {
      const key = randomUUID();
      const body = { fileIds: [a.uploads[0]] };
      // A first request that claimed the key and has made nothing yet.
      const first = await batchCreate(a, body, key);
      await db().update(idempotencyKeys).set({ resourceId: null }).where(sql`${idempotencyKeys.userId} = ${a.userId} and ${idempotencyKeys.key} = ${key}`);
      const busy = await batchCreate(a, body, key);
      expect(busy.status).toBe(409);
      expect(busy.body).toEqual({ statusCode: 409, code: 'idempotency-request-in-progress', message: expect.stringContaining('retry') });
      await age(a, key, 1);
      const retried = await batchCreate(a, body, key);
      expect(retried.status).toBe(202);
      expect(retried.body.batchId).not.toBe(first.body.batchId);
    });

    it('makes a batch per request without a key', async () => {
      const before = await batchCount(a);
      await batchCreate(a, { fileIds: [a.uploads[0]] });
      await batchCreate(a, { fileIds: [a.uploads[0]] });
      expect(await batchCount(a)).toBe(before + 2);
    });
  });

  describe('story create', () => {
    const text = 'The Lantern Keeper\n\nEvery evening the old keeper climbed the hill and lit the lantern above the harbour.';

    it('answers the same story for the same key and body (201, Idempotent-Replayed), 409 for another body', async () => {
      const key = randomUUID();
      const before = await storyCount(a);
      const first = await storyCreate(a, { text, language: 'en' }, key);
      expect(first.status).toBe(201);
      expect(replayed(first)).toBeNull();
      const second = await storyCreate(a, { language: 'en', text }, key);
      expect(second.status).toBe(201);
      expect(replayed(second)).toBe('true');
      expect(second.body).toEqual(first.body);
      expect(await storyCount(a)).toBe(before + 1);

      const other = await storyCreate(a, { text: `${text} And more.`, language: 'en' }, key);
      expect(other.status).toBe(409);
      expect(other.body.code).toBe('idempotency-key-reused');
      expect(await storyCount(a)).toBe(before + 1);
    });

    it('makes one story for two identical requests at once; other users and the batch route keep their own keys', async () => {
      const key = randomUUID();
      const before = await storyCount(a);
      const answers = await Promise.all([storyCreate(a, { text }, key), storyCreate(a, { text }, key)]);
      const made = answers.filter((answer) => answer.status === 201 && replayed(answer) === null);
      expect(made).toHaveLength(1);
      const other = answers.find((answer) => answer !== made[0])!;
      if (other.status === 201) expect(other.body.id).toBe(made[0]!.body.id);
      else expect(other.body.code).toBe('idempotency-request-in-progress');
      expect(await storyCount(a)).toBe(before + 1);

      const ofB = await storyCreate(b, { text }, key);
      expect(ofB.status).toBe(201);
      expect(ofB.body.id).not.toBe(made[0]!.body.id);
      const batch = await batchCreate(a, { fileIds: [a.uploads[0]] }, key);
      expect(batch.status).toBe(202);
      expect(replayed(batch)).toBeNull();
    });

    it('refuses an invalid key with 400', async () => {
      const answer = await storyCreate(a, { text }, 'ü'.repeat(3));
      expect(answer.status).toBe(400);
      expect(answer.body.code).toBe('invalid-idempotency-key');
    });

    it('does not make the story again once it was deleted: 409 idempotency-resource-deleted', async () => {
      const key = randomUUID();
      const first = await storyCreate(a, { text }, key);
      expect((await t.api.delete(`/stories/${first.body.id}`, { token: a.token })).status).toBe(204);
      const before = await storyCount(a);
      const again = await storyCreate(a, { text }, key);
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('idempotency-resource-deleted');
      expect(await storyCount(a)).toBe(before);
    });
  });

  it('documents the header and the 409 answers in OpenAPI', async () => {
    const doc = (await t.api.get('/docs-json')).body;
    for (const [path, status] of [['/stories', '201'], ['/stories/batch-create', '202']] as const) {
      const operation = doc.paths[path].post;
      expect(operation.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false })]));
      expect(operation.responses['409'].description).toContain('idempotency-key-reused');
      expect(operation.responses[status].headers['Idempotent-Replayed']).toBeDefined();
    }
  });
});
