import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, connectSocket, type HttpTestApp, startHttpTestApp } from '../../support/http-app.js';
import { sampleBytes } from '../../support/samples.js';
import { waitFor } from '../../support/test-app.js';

/**
 * Routes that need no user credential (DELETE /auth/cookie only clears the browser's media cookie;
 * GET /metrics has its own METRICS_TOKEN, or answers this machine only: see operations.test.ts).
 */
const PUBLIC = new Set(['GET /health', 'GET /ready', 'GET /metrics', 'POST /auth/register', 'POST /auth/login', 'POST /auth/refresh', 'DELETE /auth/cookie']);

/** Every route of the running app (Express's router), docs excluded. */
function routesOf(t: HttpTestApp): { method: string; path: string }[] {
  const router = t.app.getHttpAdapter().getInstance().router as { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
  return router.stack
    .filter((layer) => layer.route && !layer.route.path.startsWith('/docs'))
    .flatMap((layer) => Object.keys(layer.route!.methods).map((method) => ({ method: method.toUpperCase(), path: layer.route!.path })));
}

async function waitForBatch(api: ApiClient, token: string, batchId: string) {
  return waitFor(
    async () => {
      const answer = await api.get(`/stories/batch/${batchId}/status`, { token });
      return ['pending', 'processing'].includes(answer.body.status) ? undefined : answer.body;
    },
    120_000,
    `batch ${batchId}`,
  );
}

describe('access control: tokens, ownership, upload limits and validation', () => {
  let t: HttpTestApp;
  let a: { token: string; userId: string };
  let b: { token: string; userId: string };
  /** User A's things, finished. */
  const of = { uploadId: '', storyId: '', batchId: '', apiKeyId: '' };

  beforeAll(async () => {
    t = await startHttpTestApp();
    a = await t.api.register('a@example.com');
    b = await t.api.register('b@example.com');
    const uploaded = await t.api.uploadFiles(a.token, [{ name: 'vi_su_tich_cay_thi_la.txt', bytes: sampleBytes('stories/vi/vi_su_tich_cay_thi_la.txt') }]);
    of.uploadId = uploaded.body.files[0].id;
    const created = await t.api.post('/stories/batch-create', {
      token: a.token,
      json: { fileIds: [of.uploadId], autoMode: { wordPerChunkImage: 200, wordPerChunkAudio: 100 } },
    });
    of.batchId = created.body.batchId;
    of.storyId = created.body.stories[0].id;
    of.apiKeyId = (await t.api.post('/api-keys', { token: a.token, json: { name: 'a script' } })).body.id;
    const status = await waitForBatch(t.api, a.token, of.batchId);
    expect(status.status).toBe('completed');
  }, 150_000);
  afterAll(async () => t?.close());

  const fill = (route: string) =>
    route
      .replace(':batchId', of.batchId)
      .replace(':index', '0')
      .replace(/^\/api-keys\/:id/, `/api-keys/${of.apiKeyId}`)
      .replace(/^\/file-upload\/:id/, `/file-upload/${of.uploadId}`)
      .replace(':id', of.storyId);

  it('answers 401 with the error body on every route but health and sign-in, without a token or with a bad one', async () => {
    const routes = routesOf(t).filter((r) => !PUBLIC.has(`${r.method} ${r.path}`));
    expect(routes.length).toBeGreaterThanOrEqual(24);
    for (const route of routes) {
      for (const headers of [{}, { authorization: 'Bearer not-a-token' }, { 'x-api-key': 'sfk_0000' }] as Record<string, string>[]) {
        const answer = await t.api.request(route.method, fill(route.path), { headers, json: route.method === 'POST' ? {} : undefined });
        expect({ route: `${route.method} ${route.path}`, status: answer.status, code: answer.body?.code }).toEqual({
          route: `${route.method} ${route.path}`,
          status: 401,
          code: 'unauthorized',
        });
        expect(answer.body).toEqual({ statusCode: 401, code: 'unauthorized', message: expect.any(String) });
      }
    }
    expect((await t.api.get('/health')).status).toBe(200);
    expect((await t.api.get('/docs-json')).status).toBe(200);
  });

  it('refuses a Socket.IO handshake without a valid token or key', async () => {
    for (const token of [undefined, 'not-a-token', 'sfk_0000']) {
      const error = await connectSocket(t.baseUrl, token).then(
        (socket) => {
          socket.close();
          return undefined;
        },
        (e: Error & { data?: { statusCode: number; code: string } }) => e,
      );
      expect(error?.data).toMatchObject({ statusCode: 401, code: 'unauthorized' });
    }
  });

  it("gives user B 404 for user A's story, batch, upload and files, and lists none of them", async () => {
    const reads = [
      `/stories/${of.storyId}`,
      `/stories/batch/${of.batchId}/status`,
      `/file-upload/${of.uploadId}`,
      `/file-upload/${of.uploadId}/content`,
      `/stories/${of.storyId}/narration`,
      `/stories/${of.storyId}/audio/0`,
      `/stories/${of.storyId}/images/0`,
      `/stories/${of.storyId}/images.zip`,
      `/stories/${of.storyId}/package`,
    ];
    for (const route of reads) {
      expect((await t.api.get(route, { token: a.token })).status, `A: ${route}`).toBe(200);
      const answer = await t.api.get(route, { token: b.token });
      expect({ route, status: answer.status, body: answer.body }).toEqual({ route, status: 404, body: { statusCode: 404, code: 'not-found', message: expect.any(String) } });
    }
    for (const route of [`/stories/${of.storyId}/generate`, `/stories/${of.storyId}/images`, `/stories/${of.storyId}/audio`, `/stories/${of.storyId}/merge`]) {
      expect((await t.api.post(route, { token: b.token, json: {} })).status, route).toBe(404);
    }
    expect((await t.api.delete(`/stories/${of.storyId}`, { token: b.token })).status).toBe(404);
    expect((await t.api.delete(`/api-keys/${of.apiKeyId}`, { token: b.token })).status).toBe(404);
    // B cannot make stories from A's upload, by id or URL.
    const byId = await t.api.post('/stories/batch-create', { token: b.token, json: { fileIds: [of.uploadId] } });
    expect(byId.status).toBe(404);
    expect(byId.body.errors).toEqual([{ field: 'fileIds[0]', message: expect.stringContaining(of.uploadId) }]);
    expect((await t.api.post('/stories', { token: b.token, json: { fileUrl: `/file-upload/${of.uploadId}/content` } })).status).toBe(404);
    // B's lists are empty; A's story is still there.
    expect((await t.api.get('/stories', { token: b.token })).body).toMatchObject({ items: [], total: 0 });
    expect((await t.api.get('/file-upload', { token: b.token })).body).toMatchObject({ items: [], total: 0 });
    expect((await t.api.get('/api-keys', { token: b.token })).body).toEqual([]);
    expect((await t.api.get(`/stories/${of.storyId}`, { token: a.token })).body.status).toBe('completed');
  });

  it("does not let user B join A's rooms, nor receive their events", async () => {
    const socketA = await connectSocket(t.baseUrl, a.token);
    const socketB = await connectSocket(t.baseUrl, b.token);
    try {
      const batchB = await socketB.call('join-batch', { batchId: of.batchId });
      const storyB = await socketB.call('join-story', { storyId: of.storyId });
      expect(batchB).toEqual({ error: { statusCode: 404, code: 'not-found', message: expect.any(String) } });
      expect(storyB).toEqual({ error: { statusCode: 404, code: 'not-found', message: expect.any(String) } });
      expect(await socketB.call('join-story', { storyId: 'nope' })).toMatchObject({ error: { statusCode: 400, code: 'validation-failed' } });

      // A makes a new story and follows it; B tries to join its room, and hears nothing.
      const story = await t.api.post('/stories', { token: a.token, json: { text: 'The fox ran. The hare slept. The end came soon.', language: 'en' } });
      const room = `story-${story.body.id}`;
      expect((await socketA.call('join-story', { storyId: story.body.id })).room).toBe(room);
      expect((await socketB.call('join-story', { storyId: story.body.id })).error.statusCode).toBe(404);
      expect((await t.api.post(`/stories/${story.body.id}/generate`, { token: a.token, json: {} })).status).toBe(202);
      await waitFor(async () => (socketA.inRoom(room).some((e) => e.event === 'story-step' && e.data.state === 'done') ? true : undefined), 30_000, 'story step done');
      expect(socketB.events.filter((e) => e.data?.room)).toEqual([]);
    } finally {
      socketA.close();
      socketB.close();
    }
  });

  it('refuses 11 files with 400 and the error body, keeping none', async () => {
    const files = Array.from({ length: 11 }, (_, i) => ({ name: `story-${i + 1}.txt`, bytes: Buffer.from(`Story ${i + 1}. Once upon a time.`) }));
    const answer = await t.api.uploadFiles(a.token, files);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      statusCode: 400,
      code: 'too-many-files',
      message: expect.stringContaining('at most 10'),
      errors: [{ field: 'files[10]', message: expect.any(String) }],
    });
    expect((await t.api.get('/file-upload', { token: a.token })).body.total).toBe(1);
    // Ten are fine.
    const ten = await t.api.uploadFiles(a.token, files.slice(0, 10));
    expect(ten.status).toBe(201);
    expect(ten.body.files).toHaveLength(10);
  });

  it('refuses a file of 10 MB + 1 byte with 413, naming it (files[i] from 0 in a batch upload)', async () => {
    // Zero bytes: no text to gauge while it arrives, so the byte limit is what refuses it (10 MB of
    // letters is refused sooner, for its characters: test/e2e/http-upload-text-limit.test.ts).
    const big = Buffer.alloc(10 * 1024 * 1024 + 1, 0);
    const good = { name: 'good.txt', bytes: Buffer.from('A good story. It ends well.') };
    for (const [route, field, files, path] of [
      ['/file-upload/upload', 'file', [], 'file'],
      ['/file-upload/batch-upload', 'files', [good], 'files[1]'],
    ] as const) {
      const answer = await t.api.uploadFiles(a.token, [...files, { name: 'Truyện dài.txt', bytes: big }], field, route);
      expect(answer.status).toBe(413);
      expect(answer.body).toMatchObject({ statusCode: 413, code: 'file-too-large', errors: [{ field: path }] });
      expect(answer.body.message).toContain('"Truyện dài.txt"');
      expect(answer.body.message).toContain('10 MB');
    }
  });

  it('keeps a UTF-8 file name exactly, and refuses other types (415) and unreadable files (422) by name', async () => {
    const name = 'Truyện cổ tích.docx';
    const one = await t.api.uploadFiles(a.token, [{ name, bytes: sampleBytes('docs/mammoth_tables.docx') }], 'file', '/file-upload/upload');
    expect(one.status).toBe(201);
    expect(one.body).toMatchObject({ name, format: 'docx', wordCount: 10, url: `/file-upload/${one.body.id}/content` });
    const original = await t.api.get(one.body.url, { token: a.token });
    expect(original.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
    expect(decodeURIComponent(/filename\*=UTF-8''(.+)$/.exec(original.headers.get('content-disposition')!)![1]!)).toBe(name);
    expect(original.bytes.equals(sampleBytes('docs/mammoth_tables.docx'))).toBe(true);

    const good = { name: 'good.txt', bytes: Buffer.from('A good story. It ends well.') };
    const pdf = await t.api.uploadFiles(a.token, [good, { name: 'story.pdf', bytes: Buffer.from('%PDF-1.4') }]);
    expect(pdf.status).toBe(415);
    expect(pdf.body).toMatchObject({ code: 'unsupported-format', errors: [{ field: 'files[1]' }] });
    expect(pdf.body.message).toContain('story.pdf');

    // One rule for a name with nothing before its extension, however it is written.
    for (const blank of ['.txt', '   .txt', ' . .docx']) {
      const refused = await t.api.uploadFiles(a.token, [good, { name: blank, bytes: Buffer.from('A story. It ends.') }]);
      expect([refused.status, refused.body.code, refused.body.errors?.[0]?.field], JSON.stringify(blank)).toEqual([400, 'invalid-file-name', 'files[1]']);
      const alone = await t.api.uploadFiles(a.token, [{ name: blank, bytes: Buffer.from('A story. It ends.') }], 'file', '/file-upload/upload');
      expect([alone.status, alone.body.code, alone.body.errors?.[0]?.field], JSON.stringify(blank)).toEqual([400, 'invalid-file-name', 'file']);
    }

    const mixed = await t.api.uploadFiles(a.token, [
      { name: 'good.txt', bytes: Buffer.from('A good story. It ends well.') },
      { name: 'empty.txt', bytes: Buffer.alloc(0) },
    ]);
    expect(mixed.status).toBe(422);
    expect(mixed.body).toMatchObject({ statusCode: 422, code: 'empty-file', errors: [{ field: 'files[1]' }] });
    expect(mixed.body.message).toContain('empty.txt');
    const names = (await t.api.get('/file-upload?limit=100', { token: a.token })).body.items.map((u: { name: string }) => u.name);
    expect(names).not.toContain('good.txt'); // all or nothing

    const none = await t.api.post('/file-upload/batch-upload', { token: a.token, form: new FormData() });
    expect(none.status).toBe(400);
    expect(none.body.code).toBe('missing-file');
  });

  it('answers invalid fields with 400 naming each one', async () => {
    const answer = await t.api.post('/stories/batch-create', {
      token: a.token,
      json: { fileIds: ['nope'], autoMode: { wordPerChunkImage: 3, enabled: 'yes' }, style: { genre: 7 }, language: 'Vietnamese', surprise: true },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('validation-failed');
    const fields = new Set(answer.body.errors.map((e: { field: string }) => e.field));
    expect([...fields].sort()).toEqual(['autoMode.enabled', 'autoMode.wordPerChunkImage', 'fileIds', 'language', 'style.genre', 'surprise']);
    expect(answer.body.message).toContain('autoMode.wordPerChunkImage');

    const query = await t.api.get('/stories?limit=1000&status=done', { token: a.token });
    expect(query.status).toBe(400);
    expect(query.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['limit', 'status']);
    const param = await t.api.get('/stories/123', { token: a.token });
    expect(param.body).toEqual({ statusCode: 400, code: 'validation-failed', message: 'id must be a UUID', errors: [{ field: 'id', message: 'id must be a UUID' }] });
    const register = await t.api.post('/auth/register', { json: { email: 'not-an-email', password: 'short' } });
    expect(register.status).toBe(400);
    expect(register.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['email', 'password']);
    const broken = await t.api.request('POST', '/stories', { token: a.token, headers: { 'content-type': 'application/json' } });
    expect(broken.status).toBe(400);
    const malformed = await fetch(`${t.baseUrl}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ statusCode: 400, code: 'bad-request' });
  });
});
