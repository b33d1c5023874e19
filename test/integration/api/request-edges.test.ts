import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpTestApp, startHttpTestApp } from '../../support/http-app.js';

const TEXT = 'The Lantern Keeper\n\nEvery evening the old keeper climbed the hill and lit the lantern above the harbour.';

describe('odd requests: path and query numbers, reserved keys, body types, languages, video switches', () => {
  let t: HttpTestApp;
  let token: string;
  let storyId: string;

  beforeAll(async () => {
    t = await startHttpTestApp({ workers: false });
    token = (await t.api.register('edges@example.com')).token;
    const created = await t.api.post('/stories', { token, json: { text: TEXT, language: 'en' } });
    expect(created.status).toBe(201);
    storyId = created.body.id;
  });
  afterAll(async () => t?.close());

  const raw = (method: string, route: string, body: string, contentType?: string) =>
    fetch(`${t.baseUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(contentType ? { 'content-type': contentType } : {}) },
      body,
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code: string; message: string; errors: { field: string; message: string }[] } }));

  it('takes a chunk index only as decimal digits within range, and answers 400 naming it otherwise (never 500)', async () => {
    for (const kind of ['images', 'audio']) {
      for (const bad of ['99999999999999999999', '2147483648', '0x1', '1e1', '00', '01', '0%20', '%200', '-1', '1.0', '+1']) {
        const answer = await t.api.get(`/stories/${storyId}/${kind}/${bad}`, { token });
        expect([answer.status, answer.body.code, answer.body.errors?.[0]?.field], `${kind}/${bad}`).toEqual([400, 'validation-failed', 'index']);
      }
      // Well-formed indexes of chunks that do not exist are simply not there.
      for (const good of ['0', '2147483647']) expect((await t.api.get(`/stories/${storyId}/${kind}/${good}`, { token })).status, `${kind}/${good}`).toBe(404);
    }
  });

  it('takes page and limit only as decimal digits within range', async () => {
    for (const [query, field] of [
      ['page=0x1', 'page'],
      ['page=1e1', 'page'],
      ['page=01', 'page'],
      ['page=99999999999999999999', 'page'],
      ['page=-1', 'page'],
      ['page=1&page=2', 'page'],
      ['limit=1e1', 'limit'],
      ['limit=%2010', 'limit'],
    ]) {
      for (const route of ['/stories', '/file-upload']) {
        const answer = await t.api.get(`${route}?${query}`, { token });
        expect([answer.status, answer.body.errors?.map((e: { field: string }) => e.field)[0]], `${route}?${query}`).toEqual([400, field]);
      }
    }
    const last = await t.api.get('/stories?page=2147483647&limit=100', { token });
    expect([last.status, last.body.items]).toEqual([200, []]);
    expect((await t.api.get('/stories?page=1&limit=10', { token })).body.total).toBe(1);
  });

  it('refuses __proto__, constructor and prototype as unknown fields, at the top and nested', async () => {
    const body = `{"text":"Hello there, a short tale.","__proto__":{"admin":true},"constructor":{"x":1},"autoMode":{"prototype":{}}}`;
    const answer = await raw('POST', '/stories', body, 'application/json');
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('validation-failed');
    expect(answer.body.errors.map((e: { field: string }) => e.field)).toEqual(['__proto__', 'autoMode.prototype', 'constructor']);
    expect(answer.body.errors[0].message).toMatch(/unknown field: __proto__/);
    expect((await t.api.get('/stories', { token })).body.total).toBe(1);
  });

  it('answers 415 naming the accepted types for bodies sent as text, XML or a form', async () => {
    for (const [type, body] of [
      ['text/plain', '{"text":"Hello"}'],
      ['application/xml', '<story><text>Hello</text></story>'],
      ['application/x-www-form-urlencoded', 'text=Hello&language=en'],
    ]) {
      const answer = await raw('POST', '/stories', body, type);
      expect([answer.status, answer.body.code], type).toEqual([415, 'unsupported-media-type']);
      expect(answer.body.message).toContain('application/json or multipart/form-data');
    }
    // A POST without a body still works as before.
    expect((await fetch(`${t.baseUrl}/stories/${storyId}/images`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status).toBe(409);
  });

  it('refuses an unknown language with the accepted codes, and stores nothing', async () => {
    for (const language of ['xx', 'EN', 'fil', 'e']) {
      const answer = await t.api.post('/stories', { token, json: { text: TEXT, language } });
      expect([answer.status, answer.body.errors?.[0]?.field], language).toEqual([400, 'language']);
      expect(answer.body.errors[0].message).toMatch(/accepted: aa, ab, .*\ben, .*\bvi, /);
    }
    expect((await t.api.get('/stories', { token })).body.total).toBe(1);
  });

  it('refuses a video without the images or the merged narration, on POST /stories and generate', async () => {
    const created = await t.api.post('/stories', { token, json: { text: TEXT, autoMode: { renderVideo: true, generateImages: false, generateAudio: false } } });
    expect(created.status).toBe(400);
    expect(created.body.errors.map((e: { field: string }) => e.field)).toEqual(['autoMode.generateImages', 'autoMode.generateAudio']);
    const generated = await t.api.post(`/stories/${storyId}/generate`, { token, json: { autoMode: { renderVideo: true, mergeAudio: false } } });
    expect([generated.status, generated.body.errors?.[0]?.field]).toEqual([400, 'autoMode.mergeAudio']);
    expect((await t.api.get(`/stories/${storyId}`, { token })).body.steps.story).toBe('pending');
    const ok = await t.api.post('/stories', { token, json: { text: TEXT, autoMode: { renderVideo: true, videoPreset: '9:16', burnSubtitles: true } } });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ autoMode: { renderVideo: true, videoPreset: '9:16', burnSubtitles: true }, videoUrl: null, packageUrl: `/stories/${ok.body.id}/package` });
    expect((await t.api.post('/stories', { token, json: { text: TEXT, autoMode: { videoPreset: '4:3' } } })).status).toBe(400);
    await t.api.delete(`/stories/${ok.body.id}`, { token });
  });
});
