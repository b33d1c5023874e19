import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORY_SCHEMA_REASKS } from '../../../src/providers/story-writer/openai-compatible.js';
import { artifactKeys } from '../../../src/repositories/storage.repository.js';
import { StoryRepository } from '../../../src/repositories/story.repository.js';
import { runBatch } from '../../support/batches.js';
import { FakeOpenAiServer } from '../../support/fake-openai-server.js';
import { probeAudio } from '../../support/media-probe.js';
import { sample } from '../../support/samples.js';
import { localStorageOf, startTestApp, type TestApp } from '../../support/test-app.js';

describe('a batch with the openai-compatible providers (local server, OpenAI wire format)', () => {
  const server = new FakeOpenAiServer({ apiKey: 'sk-test' });
  let t: TestApp;
  beforeAll(async () => {
    const { baseUrl } = await server.start();
    t = await startTestApp({
      database: 'postgres',
      env: {
        STORY_WRITER: 'openai-compatible',
        IMAGE_GENERATOR: 'openai-compatible',
        SPEECH_SYNTHESIZER: 'openai-compatible',
        OPENAI_BASE_URL: baseUrl,
        OPENAI_API_KEY: 'sk-test',
        OPENAI_CHAT_MODEL: 'fake-writer',
        OPENAI_SPEECH_VOICE: 'nova',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await server.close();
  });

  it('writes the story with the model, draws each chunk and narrates it', async () => {
    const batch = await runBatch(t.app, [sample('stories/en/en_grimm_frog_prince.txt')], {
      autoMode: { wordPerChunkImage: 200, wordPerChunkAudio: 100 },
    });
    expect(batch.status).toBe('completed');
    const stories = t.app.get(StoryRepository);
    const story = await stories.getOrThrow(batch.results[0]!.storyId);
    expect(story.metadata.providers?.story).toEqual({ provider: 'openai-compatible', model: 'fake-writer' });

    const chat = server.requestsTo('chat');
    expect(chat).toHaveLength(1);
    expect(chat[0]!.headers.authorization).toBe('Bearer sk-test');
    expect(JSON.stringify(chat[0]!.body.messages)).toContain('English');

    // Each image chunk got the model's prompt for it and a stored image; each clip decodes.
    const images = await stories.imageChunks(story.id);
    expect(images.length).toBeGreaterThan(1);
    expect(images[0]!.prompt).toMatch(/^Illustration 1 of /);
    expect(images.every((c) => !c.placeholder && c.provider === 'openai-compatible')).toBe(true);
    expect(server.requestsTo('images')).toHaveLength(images.length);
    const audio = await stories.audioChunks(story.id);
    const speech = server.requestsTo('speech');
    expect(speech).toHaveLength(audio.length);
    expect(speech.every((r) => r.body.voice === 'nova' && r.body.input.length <= 4096)).toBe(true);
    // Chunks run concurrently, so requests arrive in any order; each chunk's text is sent once.
    expect(speech.map((r) => r.body.input).sort()).toEqual(audio.map((c) => c.spokenText).sort());
    const storage = localStorageOf(t.app);
    expect(await storage.list(artifactKeys.audioFolder(story.id))).toHaveLength(audio.length);
    expect((await probeAudio(storage.pathOf(story.narrationKey!))).duration).toBeGreaterThan(1);
  });

  it('re-asks a model that does not answer in the story JSON, then fails the story without retrying the step', async () => {
    server.reset();
    for (let ask = 0; ask <= STORY_SCHEMA_REASKS; ask++) {
      server.enqueue('chat', { kind: 'chat', content: 'Sure! Here is your story: once upon a time…' });
    }
    const batch = await runBatch(t.app, [sample('stories/vi/vi_thanh_giong.txt')]);
    expect(batch.status).toBe('failed');
    expect(batch.results[0]).toMatchObject({ status: 'failed', failedStep: 'story' });
    expect(batch.results[0]!.error).toMatch(/JSON/);
    // Asked once and re-asked a bounded number of times, within one attempt; the step is not retried.
    expect(server.requestsTo('chat')).toHaveLength(1 + STORY_SCHEMA_REASKS);
  });

  it('retries a 500 from the model and then finishes', async () => {
    server.reset();
    server.enqueue('chat', { kind: 'error', status: 500, message: 'upstream overloaded' });
    const batch = await runBatch(t.app, [sample('stories/vi/vi_su_tich_cay_thi_la.txt')], {
      autoMode: { generateImages: false },
    });
    expect(batch.status).toBe('completed');
    expect(server.requestsTo('chat')).toHaveLength(2);
    expect(server.requestsTo('images')).toHaveLength(0);
  });
});
