import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportService } from '../../../src/services/export.service.js';
import { StoryRepository } from '../../../src/repositories/story.repository.js';
import { runBatch } from '../../support/batches.js';
import { FakeVendorServer } from '../../support/fake-vendor-server.js';
import { probeAudio } from '../../support/media-probe.js';
import { startCli, type StartedCli, stopCli } from '../../support/cli.js';
import { localStorageOf, startTestApp, type TestApp, waitFor } from '../../support/test-app.js';

const run = promisify(execFile);

/** A short story: 8 sentences, cut into clips of about 10 words. */
const STORY = [
  'Mai lived in a small house by the river.',
  'Every morning she counted the white herons on the bank.',
  'One day a small boat drifted to the shore without anyone inside.',
  'She climbed in and the boat carried her slowly downstream.',
  'The river was wide and the water was calm and green.',
  'At noon she reached a village she had never seen.',
  'The children there showed her the way back home.',
  'From then on she visited them every week.',
].join(' ');

async function storyFile(dir: string, name: string): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, STORY);
  return file;
}

/**
 * A second worker process: `storyforge worker` on the test app's database, Redis prefix and data
 * folder, with the same provider configuration. Resolves once it has started its workers.
 */
async function secondWorker(t: TestApp, env: Record<string, string>): Promise<StartedCli> {
  const worker = startCli(['worker'], {
    ...env,
    DATA_DIR: t.config.dataDir,
    DATABASE_URL: t.config.databaseUrl!,
    QUEUE_PREFIX: t.config.queuePrefix,
    JOB_BACKOFF_MS: '200',
    LOG_LEVEL: 'info',
  });
  await waitFor(async () => (worker.output().includes('Worker started') ? true : undefined), 120_000, 'the second worker process to start');
  return worker;
}

describe('speech providers within limits, with several keys and a fallback', () => {
  const server = new FakeVendorServer();
  let base = '';
  let dir = '';
  let mp3 = Buffer.alloc(0);

  beforeAll(async () => {
    base = await server.start();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sf-limits-'));
    // 0.4 s of tone as MP3, as ElevenLabs answers.
    const out = path.join(dir, 'tone.mp3');
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=0.4', '-ac', '1', '-ar', '44100', '-b:a', '64k', out]);
    mp3 = await fs.readFile(out);
  });
  afterAll(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  describe('elevenlabs with 2 concurrent calls at most, two worker processes, one key answering 429', () => {
    let t: TestApp;
    let other: StartedCli | undefined;
    beforeAll(async () => {
      const env = {
        SPEECH_SYNTHESIZER: 'elevenlabs',
        ELEVENLABS_BASE_URL: base,
        ELEVENLABS_API_KEY: 'key-rate-limited,key-good',
        PROVIDER_LIMITS: JSON.stringify({ 'speech.elevenlabs': { maxConcurrent: 2 } }),
        AUDIO_CONCURRENCY: '3',
      };
      t = await startTestApp({ database: 'postgres', env });
      other = await secondWorker(t, env);
    });
    afterAll(async () => {
      if (other) await stopCli(other);
      await t?.close();
    });

    it('never has more than 2 calls in flight, uses the good key without waiting for the resting one, and finishes', async () => {
      server.reset();
      server.on('POST', /^\/v1\/text-to-speech\/[^/]+\/with-timestamps$/, (r) => {
        if (r.headers['xi-api-key'] === 'key-rate-limited') {
          return { status: 429, headers: { 'retry-after': '600' }, body: { detail: { status: 'too_many_concurrent_requests', message: 'Too many concurrent requests' } } };
        }
        return { delayMs: 300, body: { audio_base64: mp3.toString('base64'), alignment: null } };
      });
      const started = Date.now();
      const batch = await runBatch(t.app, [await storyFile(dir, 'two-keys.txt'), await storyFile(dir, 'two-keys-2.txt')], {
        language: 'en',
        autoMode: { generateImages: false, mergeAudio: false, wordPerChunkAudio: 10 },
        timeoutMs: 120_000,
      });
      expect(batch.status).toBe('completed');
      // The resting key's Retry-After is 10 minutes: finishing well before it means nobody waited for it.
      expect(Date.now() - started).toBeLessThan(90_000);
      const calls = server.requests;
      expect(calls.filter((r) => r.headers['xi-api-key'] === 'key-rate-limited')).toHaveLength(1);
      const good = calls.filter((r) => r.headers['xi-api-key'] === 'key-good');
      expect(good.length).toBeGreaterThanOrEqual(10);
      expect(server.maxInFlight).toBe(2);
      // Both processes took clips: the limit held across processes, not within one.
      expect(other!.output()).toMatch(/audio chunk \d+ \(attempt \d+\) done/);
      const stories = t.app.get(StoryRepository);
      for (const result of batch.results) {
        const clips = await stories.audioChunks(result.storyId);
        expect(clips.every((c) => c.provider === 'elevenlabs' && c.status === 'completed')).toBe(true);
      }
    });
  });

  describe('gemini TTS (24 kHz PCM) failing over to espeak-ng (22.05 kHz)', () => {
    let t: TestApp;
    let down = false;
    let calls = 0;
    beforeAll(async () => {
      t = await startTestApp({
        database: 'postgres',
        env: {
          SPEECH_SYNTHESIZER: 'gemini',
          GEMINI_BASE_URL: `${base}/v1beta`,
          GEMINI_API_KEY: 'gm-key',
          SPEECH_FALLBACK: 'espeak-ng',
          FALLBACK_AFTER_MS: '0',
          JOB_ATTEMPTS: '2',
        },
      });
    });
    afterAll(async () => {
      await t?.close();
    });

    const answerTts = () => {
      server.reset();
      calls = 0;
      server.on('POST', /^\/v1beta\/models\/[^/]+:generateContent$/, (r) => {
        calls++;
        if (down || calls % 2 === 0) return { status: 503, body: { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } } };
        const seconds = Math.min(3, 0.06 * String(r.body.contents[0].parts[0].text).length);
        const samples = Math.round(24_000 * seconds);
        const pcm = Buffer.alloc(samples * 2);
        for (let i = 0; i < samples; i++) pcm.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * 330 * i) / 24_000)), i * 2);
        return { body: { candidates: [{ content: { parts: [{ inlineData: { mimeType: 'audio/L16;codec=pcm;rate=24000', data: pcm.toString('base64') } }] }, finishReason: 'STOP' }] } };
      });
    };

    it('merges 24 kHz and 22.05 kHz clips into a narration as long as the clips plus pauses (within 1 %), naming each clip\'s provider', async () => {
      answerTts();
      const batch = await runBatch(t.app, [await storyFile(dir, 'mixed.txt')], { language: 'en', autoMode: { generateImages: false, wordPerChunkAudio: 10 } });
      expect(batch.status).toBe('completed');
      const storyId = batch.results[0]!.storyId;
      const stories = t.app.get(StoryRepository);
      const story = await stories.getOrThrow(storyId);
      const clips = await stories.audioChunks(storyId);
      const providers = new Set(clips.map((c) => c.provider));
      expect(providers).toEqual(new Set(['gemini', 'espeak-ng']));
      const storage = localStorageOf(t.app);
      for (const clip of clips) {
        const probed = await probeAudio(storage.pathOf(clip.storageKey!));
        expect(probed.sampleRate).toBe(clip.provider === 'gemini' ? 24_000 : 22_050);
      }
      expect(story.metadata.fallbacks?.length).toBe(clips.filter((c) => c.provider === 'espeak-ng').length);

      const pauses = (clips.length - 1) * t.config.narration.pauseMs;
      const expected = clips.reduce((sum, c) => sum + c.durationMs!, 0) + pauses;
      const narration = (await probeAudio(storage.pathOf(story.narrationKey!))).duration * 1000;
      expect(Math.abs(narration - expected) / expected).toBeLessThan(0.01);

      const out = path.join(dir, 'export');
      const doc = await t.app.get(ExportService).exportStory(story, out, null);
      const json = JSON.parse(await fs.readFile(path.join(out, 'story.json'), 'utf8'));
      expect(json.audio.map((a: { provider: string }) => a.provider)).toEqual(clips.map((c) => c.provider));
      expect(doc.audio.every((a) => a.provider === 'gemini' || a.provider === 'espeak-ng')).toBe(true);
    });

    it('finishes with the fallback when the first speech provider is down', async () => {
      down = true;
      answerTts();
      const batch = await runBatch(t.app, [await storyFile(dir, 'down.txt')], { language: 'en', autoMode: { generateImages: false, mergeAudio: false, wordPerChunkAudio: 10 } });
      expect(batch.status).toBe('completed');
      const clips = await t.app.get(StoryRepository).audioChunks(batch.results[0]!.storyId);
      expect(clips.length).toBeGreaterThan(2);
      expect(clips.every((c) => c.provider === 'espeak-ng')).toBe(true);
      expect(calls).toBeGreaterThanOrEqual(clips.length);
    });
  });
});
