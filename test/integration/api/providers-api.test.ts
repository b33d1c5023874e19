import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeVendorServer } from '../../support/fake-vendor-server.js';
import { type HttpTestApp, startHttpTestApp } from '../../support/http-app.js';

/** Where the fake Gemini answers text-to-speech. */
const GEMINI_TTS = /^\/v1beta\/models\/[^/]+:generateContent$/;

/** `seconds` of a 16-bit mono 24 kHz tone, as Gemini TTS answers (raw PCM, no header). */
function pcm24k(seconds: number): Buffer {
  const pcm = Buffer.alloc(Math.round(24_000 * seconds) * 2);
  for (let i = 0; i < pcm.length / 2; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin(i / 10)), i * 2);
  return pcm;
}

describe('choosing providers over HTTP', () => {
  let t: HttpTestApp;
  let token = '';
  let uploadId = '';
  const gemini = new FakeVendorServer();

  beforeAll(async () => {
    const base = await gemini.start();
    // Gemini has a key here; ElevenLabs and Anthropic have none.
    t = await startHttpTestApp({ workers: false, env: { GEMINI_API_KEY: 'gm-secret-1,gm-secret-2', GEMINI_BASE_URL: `${base}/v1beta` } });
    ({ token } = await t.api.register('chooser@example.com'));
    const upload = await t.api.uploadFiles(token, [{ name: 'tale.txt', bytes: Buffer.from('Ngày xửa ngày xưa có một cô bé sống bên bờ sông.') }], 'file', '/file-upload/upload');
    expect(upload.status).toBe(201);
    uploadId = upload.body.id ?? upload.body.files?.[0]?.id;
  });
  afterAll(async () => {
    await t?.close();
    await gemini.close();
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

  describe('GET /voices/preview', () => {
    it('speaks a greeting in the voice\'s language with espeak-ng, as a WAV the browser can play', async () => {
      const answer = await t.api.get('/voices/preview?provider=espeak-ng&voice=vi', { token });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe('audio/wav');
      expect(answer.bytes.subarray(0, 4).toString('latin1')).toBe('RIFF');
      expect(answer.bytes.subarray(8, 12).toString('latin1')).toBe('WAVE');
      // A spoken sentence, not an empty file: more than half a second of 16-bit mono at 22.05 kHz.
      expect(answer.bytes.length).toBeGreaterThan(22_050);
    });

    it('says the given text with a networked voice: Gemini\'s 24 kHz PCM comes back as a WAV at 24 kHz', async () => {
      gemini.reset();
      gemini.on('POST', GEMINI_TTS, () => ({
        body: { candidates: [{ content: { role: 'model', parts: [{ inlineData: { mimeType: 'audio/L16;codec=pcm;rate=24000', data: pcm24k(0.5).toString('base64') } }] }, finishReason: 'STOP' }] },
      }));
      const answer = await t.api.get(`/voices/preview?provider=gemini&voice=Puck&text=${encodeURIComponent('Xin chào các bạn.')}`, { token });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe('audio/wav');
      expect(answer.bytes.readUInt32LE(24)).toBe(24_000); // the WAV header's sample rate
      expect(gemini.requests).toHaveLength(1);
      expect(gemini.requests[0]!.body.contents[0].parts[0].text).toBe('Xin chào các bạn.');
      expect(gemini.requests[0]!.body.generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName).toBe('Puck');
    });

    it('502 provider-failed when the provider refuses, with its reason and never the key; no fallback voice instead', async () => {
      gemini.reset();
      gemini.on('POST', GEMINI_TTS, () => ({ status: 400, body: { error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT' } } }));
      const answer = await t.api.get('/voices/preview?provider=gemini&voice=Kore', { token });
      expect(answer.status).toBe(502);
      expect(answer.body.code).toBe('provider-failed');
      expect(answer.body.message).toMatch(/API key not valid/);
      expect(answer.bytes.toString()).not.toContain('gm-secret');
    });

    it('422 for a voice that does not exist or a provider without a key; 400 without a voice or with an unknown provider; 401 signed out', async () => {
      const unknownVoice = await t.api.get('/voices/preview?provider=edge&voice=vi-VN-NoSuchNeural', { token });
      expect(unknownVoice.status).toBe(422);
      expect(unknownVoice.body.code).toBe('invalid-provider-choice');
      expect(unknownVoice.body.errors[0].message).toContain('vi-VN-HoaiMyNeural');
      const noKey = await t.api.get('/voices/preview?provider=elevenlabs&voice=21m00Tcm4TlvDq8ikWAM', { token });
      expect(noKey.status).toBe(422);
      expect(noKey.body.errors[0].message).toMatch(/no API key configured/);
      expect((await t.api.get('/voices/preview?provider=espeak-ng', { token })).status).toBe(400);
      expect((await t.api.get('/voices/preview?provider=nope&voice=vi', { token })).status).toBe(400);
      expect((await t.api.get(`/voices/preview?provider=espeak-ng&voice=vi&text=${'a'.repeat(201)}`, { token })).status).toBe(400);
      expect((await t.api.get('/voices/preview?provider=espeak-ng&voice=vi')).status).toBe(401);
    });
  });
});
