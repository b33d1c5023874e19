import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { EdgeTTS } from 'node-edge-tts';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { ProviderError } from '../../../src/providers/provider-error.js';
import { EdgeSpeechSynthesizer, type EdgeClientOptions } from '../../../src/providers/speech/edge.js';
import { ElevenLabsSynthesizer } from '../../../src/providers/speech/elevenlabs.js';
import { GeminiSpeechSynthesizer } from '../../../src/providers/speech/gemini.js';
import { FakeVendorServer } from '../../support/fake-vendor-server.js';

const KEY = 'secret-key-456';

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProviderError);
  expect((error as Error).message).not.toContain(KEY);
  return error as ProviderError;
}

describe('speech synthesizers over HTTP', () => {
  const server = new FakeVendorServer();
  let base = '';
  beforeAll(async () => {
    base = await server.start();
  });
  afterAll(() => server.close());
  beforeEach(() => server.reset());

  describe('gemini TTS', () => {
    const tts = () =>
      new GeminiSpeechSynthesizer({ baseUrl: `${base}/v1beta`, apiKey: KEY, model: 'gemini-2.5-flash-preview-tts', voice: 'Kore', timeoutMs: 10_000 });
    const path = /^\/v1beta\/models\/gemini-2\.5-flash-preview-tts:generateContent$/;

    it('asks for AUDIO with the voice and wraps the 24 kHz PCM in a WAV header at its real rate', async () => {
      const pcm = Buffer.alloc(24_000 * 2 * 0.5); // 0.5 s of 16-bit mono at 24 kHz
      for (let i = 0; i < pcm.length / 2; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin(i / 10)), i * 2);
      server.on('POST', path, (r) => {
        expect(r.headers['x-goog-api-key']).toBe(KEY);
        expect(r.body.contents[0].parts[0].text).toBe('Xin chào các bạn.');
        expect(r.body.generationConfig.responseModalities).toEqual(['AUDIO']);
        expect(r.body.generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName).toBe('Puck');
        return {
          body: {
            candidates: [{ content: { role: 'model', parts: [{ inlineData: { mimeType: 'audio/L16;codec=pcm;rate=24000', data: pcm.toString('base64') } }] }, finishReason: 'STOP' }],
          },
        };
      });
      const speech = await tts().synthesize({ text: 'Xin chào các bạn.', language: 'vi', voice: 'Puck' });
      const wav = Buffer.from(speech.data);
      expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
      expect(wav.readUInt32LE(24)).toBe(24_000);
      expect(wav.readUInt16LE(22)).toBe(1);
      expect(wav.readUInt32LE(40)).toBe(pcm.length);
      expect(speech).toMatchObject({ extension: 'wav', voice: 'Puck', model: 'gemini-2.5-flash-preview-tts' });
    });

    it('maps 429 with Retry-After, quota, overload and a safety stop', async () => {
      server.on('POST', path, () => ({
        status: 429,
        headers: { 'retry-after': '3' },
        body: { error: { code: 429, message: 'Resource has been exhausted (e.g. check quota).', status: 'RESOURCE_EXHAUSTED' } },
      }));
      expect(await failure(tts().synthesize({ text: 'a b', language: 'en' }))).toMatchObject({ kind: 'transient', retryAfterMs: 3000, keyFault: 'rate-limit' });
      server.reset();
      server.on('POST', path, () => ({
        status: 429,
        body: { error: { code: 429, message: 'You exceeded your current quota, please check your plan and billing details.', status: 'RESOURCE_EXHAUSTED' } },
      }));
      expect(await failure(tts().synthesize({ text: 'a b', language: 'en' }))).toMatchObject({ kind: 'transient', keyFault: 'quota' });
      server.reset();
      server.on('POST', path, () => ({ status: 503, body: { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } } }));
      expect((await failure(tts().synthesize({ text: 'a b', language: 'en' }))).kind).toBe('transient');
      server.reset();
      server.on('POST', path, () => ({ body: { candidates: [{ content: { parts: [] }, finishReason: 'PROHIBITED_CONTENT' }] } }));
      const blocked = await failure(tts().synthesize({ text: 'a b', language: 'en' }));
      expect(blocked.kind).toBe('permanent');
      expect(blocked.message).toContain('PROHIBITED_CONTENT');
    });

    it('refuses text over its limit before any call', async () => {
      const error = await failure(new GeminiSpeechSynthesizer({ baseUrl: base, apiKey: KEY, model: 'm', voice: 'Kore', timeoutMs: 1000, maxInputChars: 5 }).synthesize({ text: 'too long a text', language: 'en' }));
      expect(error.kind).toBe('permanent');
      expect(server.requests).toHaveLength(0);
    });
  });

  describe('elevenlabs', () => {
    const tts = () => new ElevenLabsSynthesizer({ baseUrl: base, apiKey: KEY, model: 'eleven_multilingual_v2', voice: '21m00Tcm4TlvDq8ikWAM', timeoutMs: 10_000 });
    const path = /^\/v1\/text-to-speech\/([^/]+)\/with-timestamps$/;

    it('sends text, model and key to the voice, returns MP3 and word timings from the alignment', async () => {
      const mp3 = Buffer.from([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0, 0xff, 0xfb, 0x90, 0x64]);
      server.on('POST', path, (r, match) => {
        expect(match[1]).toBe('pNInz6obpgDQGcFmaJgB');
        expect(r.headers['xi-api-key']).toBe(KEY);
        expect(r.query.get('output_format')).toBe('mp3_44100_128');
        expect(r.body).toMatchObject({ text: 'Hi there', model_id: 'eleven_multilingual_v2' });
        const characters = [...'Hi there'];
        return {
          body: {
            audio_base64: mp3.toString('base64'),
            alignment: {
              characters,
              character_start_times_seconds: characters.map((_, i) => i * 0.1),
              character_end_times_seconds: characters.map((_, i) => i * 0.1 + 0.1),
            },
          },
        };
      });
      const speech = await tts().synthesize({ text: 'Hi there', language: 'en', voice: 'pNInz6obpgDQGcFmaJgB' });
      expect(Buffer.from(speech.data).equals(mp3)).toBe(true);
      expect(speech.extension).toBe('mp3');
      expect(speech.words).toEqual([
        { text: 'Hi', startMs: 0, endMs: 200 },
        { text: 'there', startMs: 300, endMs: 800 },
      ]);
    });

    it('maps its documented errors: 401 quota_exceeded, 401 invalid key, 429 busy with Retry-After, 422 validation', async () => {
      server.on('POST', path, () => ({ status: 401, body: { detail: { status: 'quota_exceeded', message: 'This request exceeds your quota of 10000. You have 12 credits remaining.' } } }));
      expect(await failure(tts().synthesize({ text: 'a b', language: 'en' }))).toMatchObject({ kind: 'transient', keyFault: 'quota' });
      server.reset();
      server.on('POST', path, () => ({ status: 401, body: { detail: { status: 'invalid_api_key', message: 'Invalid API key' } } }));
      expect(await failure(tts().synthesize({ text: 'a b', language: 'en' }))).toMatchObject({ kind: 'permanent', keyFault: 'auth' });
      server.reset();
      server.on('POST', path, () => ({ status: 429, headers: { 'retry-after': '2' }, body: { detail: { status: 'too_many_concurrent_requests', message: 'Too many concurrent requests' } } }));
      expect(await failure(tts().synthesize({ text: 'a b', language: 'en' }))).toMatchObject({ kind: 'transient', retryAfterMs: 2000, keyFault: 'rate-limit' });
      server.reset();
      server.on('POST', path, () => ({ status: 422, body: { detail: [{ loc: ['body', 'text'], msg: 'field required', type: 'value_error.missing' }] } }));
      expect((await failure(tts().synthesize({ text: 'a b', language: 'en' }))).kind).toBe('permanent');
    });
  });
});

/**
 * Edge: node-edge-tts connects to Microsoft's fixed wss:// address with a DRM token, and offers
 * no way to point it elsewhere. The test goes through its one seam, `_connectWebSocket`, which a
 * subclass points at a local WebSocket server speaking the read-aloud protocol (speech.config and
 * ssml messages in; audio.metadata word boundaries, binary `Path:audio` frames and turn.end out).
 * Covered: the SSML the client sends (voice, language, text escaped), the frames it reads, the
 * word timings, the timeout, and this provider's mapping. Not covered: the real address, headers
 * and token (the library's part).
 */
describe('edge speech over WebSocket (through the client seam)', () => {
  let wss: WebSocketServer;
  let url = '';
  const received: string[] = [];
  let behaviour: 'ok' | 'silent' | 'hang' = 'ok';
  const audio = Buffer.from([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0, 0xff, 0xf3, 0x44, 0xc4]);

  beforeAll(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/edge/v1`;
    wss.on('connection', (socket) => {
      socket.on('message', (data) => {
        const text = data.toString();
        received.push(text);
        if (!text.includes('Path:ssml') || behaviour === 'hang') return;
        if (behaviour === 'ok') {
          const metadata = { Metadata: [
            { Type: 'WordBoundary', Data: { Offset: 1_000_000, Duration: 3_000_000, text: { Text: 'Xin' } } },
            { Type: 'WordBoundary', Data: { Offset: 5_000_000, Duration: 4_000_000, text: { Text: 'chào' } } },
          ] };
          socket.send(`X-RequestId:1\r\nContent-Type:application/json; charset=utf-8\r\nPath:audio.metadata\r\n\r\n${JSON.stringify(metadata)}`);
          socket.send(Buffer.concat([Buffer.from([0, 60]), Buffer.from('X-RequestId:1\r\nContent-Type:audio/mpeg\r\nPath:audio\r\n'), audio]), { binary: true });
        }
        socket.send('X-RequestId:1\r\nContent-Type:application/json; charset=utf-8\r\nPath:turn.end\r\n\r\n{}');
      });
    });
  });
  afterAll(async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });
  afterEach(() => {
    received.length = 0;
    behaviour = 'ok';
  });

  class LocalEdge extends EdgeTTS {
    constructor(private readonly options: EdgeClientOptions) {
      super(options);
    }
    override _connectWebSocket(): Promise<WebSocket> {
      const socket = new WebSocket(url);
      return new Promise((resolve, reject) => {
        socket.on('open', () => {
          socket.send(`Content-Type:application/json; charset=utf-8\r\nPath:speech.config\r\n\r\n{"context":{"synthesis":{"audio":{"outputFormat":"${this.options.outputFormat}"}}}}`);
          resolve(socket);
        });
        socket.on('error', reject);
      });
    }
  }
  const edge = (timeoutMs = 5000) => new EdgeSpeechSynthesizer({ voice: 'vi-VN-HoaiMyNeural', timeoutMs, client: (options) => new LocalEdge(options) });

  it('sends SSML with the voice and its language, returns the MP3 and word timings', async () => {
    const speech = await edge().synthesize({ text: 'Xin chào', language: 'vi', voice: 'vi-VN-NamMinhNeural' });
    const ssml = received.find((m) => m.includes('Path:ssml'))!;
    expect(ssml).toContain('<voice name="vi-VN-NamMinhNeural">');
    expect(ssml).toContain('xml:lang="vi-VN"');
    expect(received.some((m) => m.includes('audio-24khz-48kbitrate-mono-mp3'))).toBe(true);
    expect(Buffer.from(speech.data).equals(audio)).toBe(true);
    expect(speech).toMatchObject({ extension: 'mp3', voice: 'vi-VN-NamMinhNeural' });
    expect(speech.words).toEqual([
      { text: 'Xin', startMs: 100, endMs: 400 },
      { text: 'chào', startMs: 500, endMs: 900 },
    ]);
  });

  it('an answer with no audio is transient', async () => {
    behaviour = 'silent';
    const error = await failure(edge().synthesize({ text: 'Xin chào <bạn> & tôi', language: 'vi' }));
    expect(error.kind).toBe('transient');
    expect(error.message).toMatch(/no audio/);
    expect(received.find((m) => m.includes('Path:ssml'))).toContain('Xin chào &lt;bạn&gt; &amp; tôi');
  });

  it('a service that never finishes times out as transient', async () => {
    behaviour = 'hang';
    const error = await failure(edge(1500).synthesize({ text: 'Xin chào', language: 'vi' }));
    expect(error.kind).toBe('transient');
    expect(error.message).toMatch(/timed out/i);
  });

  it('a refused connection is transient', async () => {
    const closed = new EdgeSpeechSynthesizer({
      voice: 'vi-VN-HoaiMyNeural',
      timeoutMs: 5000,
      client: (options) =>
        new (class extends EdgeTTS {
          override _connectWebSocket(): Promise<WebSocket> {
            const socket = new WebSocket('ws://127.0.0.1:1/');
            return new Promise((resolve, reject) => socket.on('error', reject).on('open', () => resolve(socket)));
          }
        })(options),
    });
    expect((await failure(closed.synthesize({ text: 'Xin chào', language: 'vi' }))).kind).toBe('transient');
  });
});
