import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpTestApp, startHttpTestApp } from '../../support/http-app.js';

describe('choosing providers over HTTP', () => {
  let t: HttpTestApp;
  let token = '';
  let uploadId = '';

  beforeAll(async () => {
    // Gemini has a key here; ElevenLabs and Anthropic have none.
    t = await startHttpTestApp({ workers: false, env: { GEMINI_API_KEY: 'gm-secret-1,gm-secret-2' } });
    ({ token } = await t.api.register('chooser@example.com'));
    const upload = await t.api.uploadFiles(token, [{ name: 'tale.txt', bytes: Buffer.from('Ngày xửa ngày xưa có một cô bé sống bên bờ sông.') }], 'file', '/file-upload/upload');
    expect(upload.status).toBe(201);
    uploadId = upload.body.id ?? upload.body.files?.[0]?.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('GET /providers lists every provider with configured, default and models; keys never appear', async () => {
    const answer = await t.api.get('/providers', { token });
    expect(answer.status).toBe(200);
    const names = (list: { name: string }[]) => list.map((p) => p.name);
    expect(names(answer.body.writers)).toEqual(expect.arrayContaining(['source', 'gemini', 'anthropic', 'openai', 'openai-compatible']));
    expect(names(answer.body.images)).toEqual(expect.arrayContaining(['card', 'gemini', 'automatic1111', 'comfyui', 'openai-compatible']));
    expect(names(answer.body.speech)).toEqual(expect.arrayContaining(['espeak-ng', 'gemini', 'edge', 'elevenlabs', 'openai-compatible']));
    const gemini = answer.body.writers.find((p: { name: string }) => p.name === 'gemini');
    expect(gemini).toMatchObject({ configured: true, default: false });
    expect(gemini.models[0]).toBe('gemini-2.5-flash');
    expect(answer.body.speech.find((p: { name: string }) => p.name === 'elevenlabs').configured).toBe(false);
    expect(answer.body.speech.find((p: { name: string }) => p.name === 'espeak-ng')).toMatchObject({ configured: true, default: true });
    expect(answer.bytes.toString()).not.toContain('gm-secret');
  });

  it('GET /voices lists voices by provider and language, espeak-ng from espeak-ng itself', async () => {
    const edge = await t.api.get('/voices?provider=edge&language=vi', { token });
    expect(edge.status).toBe(200);
    expect(edge.body.voices.map((v: { id: string }) => v.id).sort()).toEqual(['vi-VN-HoaiMyNeural', 'vi-VN-NamMinhNeural']);
    expect(edge.body.voices[0]).toMatchObject({ provider: 'edge', language: 'vi-VN' });
    const espeak = await t.api.get('/voices?provider=espeak-ng&language=vi', { token });
    expect(espeak.body.voices.map((v: { id: string }) => v.id)).toContain('vi');
    expect((await t.api.get('/voices?provider=nope', { token })).status).toBe(400);
  });

  it('batch-create answers 422 for a voice that does not exist, before anything is queued', async () => {
    const answer = await t.api.post('/stories/batch-create', { token, json: { fileIds: [uploadId], providers: { speech: 'edge:vi-VN-NoSuchNeural' } } });
    expect(answer.status).toBe(422);
    expect(answer.body.code).toBe('invalid-provider-choice');
    expect(answer.body.errors[0].field).toBe('providers.speech');
    expect(answer.body.errors[0].message).toContain('vi-VN-HoaiMyNeural');
    // Nothing stored, so nothing queued: no story and no batch exists.
    expect((await t.api.get('/stories', { token })).body.total).toBe(0);
  });

  it('422 for a voice that does not speak the story language, for a provider without a key, and for an unknown provider', async () => {
    const wrongLanguage = await t.api.post('/stories/batch-create', { token, json: { fileIds: [uploadId], language: 'vi', providers: { speech: 'edge:en-US-AriaNeural' } } });
    expect(wrongLanguage.status).toBe(422);
    expect(wrongLanguage.body.errors[0].message).toMatch(/speaks en-US, not vi/);
    const noKey = await t.api.post('/stories/batch-create', { token, json: { fileIds: [uploadId], providers: { writer: 'anthropic', speech: 'elevenlabs' } } });
    expect(noKey.status).toBe(422);
    expect(noKey.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['providers.speech', 'providers.writer']);
    expect(noKey.body.errors[0].message).toMatch(/no API key configured.*valid: .*gemini/);
    const unknown = await t.api.post('/stories', { token, json: { text: 'Hello there.', providers: { images: 'midjourney' } } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors[0].message).toContain('valid: card, openai-compatible, gemini, automatic1111, comfyui');
    expect((await t.api.get('/stories', { token })).body.total).toBe(0);
  });

  it('a valid choice is stored with the story and shown back', async () => {
    const created = await t.api.post('/stories', { token, json: { text: 'Xin chào.', language: 'vi', providers: { writer: 'gemini:gemini-2.5-pro', speech: 'edge:vi-VN-NamMinhNeural', images: 'comfyui' } } });
    expect(created.status).toBe(201);
    expect(created.body.providers).toEqual({ writer: 'gemini:gemini-2.5-pro', images: 'comfyui', speech: 'edge:vi-VN-NamMinhNeural' });
    const gemini = await t.api.post('/stories', { token, json: { text: 'Hi.', providers: { speech: 'gemini:Puck' } } });
    expect(gemini.body.providers.speech).toBe('gemini:Puck');
  });
});
