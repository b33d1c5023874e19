import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpenAiCompatibleImageGenerator } from '../../../src/providers/image/openai-compatible.js';
import { ProviderError } from '../../../src/providers/provider-error.js';
import { OpenAiCompatibleSpeechSynthesizer } from '../../../src/providers/speech/openai-compatible.js';
import {
  OpenAiCompatibleStoryWriter,
  parseStoryAnswer,
  STORY_SCHEMA_REASKS,
} from '../../../src/providers/story-writer/openai-compatible.js';
import type { StoryWriteRequest } from '../../../src/providers/types.js';
import { FakeOpenAiServer } from '../../support/fake-openai-server.js';

const API_KEY = 'sk-test-123';
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const SOURCE = [
  'Mai lived by the river. Every morning she watched the boats go by and counted the herons.',
  '',
  'One day a small boat came without a rower, drifting slowly toward the bank where she stood.',
  '',
  'She climbed in, and the boat carried her downstream to a village she had never seen.',
].join('\n');

const storyRequest = (overrides: Partial<StoryWriteRequest> = {}): StoryWriteRequest => ({
  sourceText: SOURCE,
  fileName: 'river.txt',
  language: 'vi',
  style: { genre: 'fairy tale', tone: 'warm', length: 'short', targetAudience: 'children 6-8' },
  customPrompt: 'Give the heron a name.',
  wordPerChunkImage: 20,
  ...overrides,
});

const storyJson = { title: 'Con thuyền nhỏ', story: 'Mai sống bên sông.\n\nMột ngày nọ…', imagePrompts: ['a girl by a river', 'a small boat'] };

/** Runs `promise`, expecting a ProviderError, and returns it. */
async function providerError(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe('openai-compatible providers over HTTP', () => {
  const server = new FakeOpenAiServer({ apiKey: API_KEY });
  let baseUrl = '';

  beforeAll(async () => {
    ({ baseUrl } = await server.start());
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => server.reset());

  const writer = (options: { timeoutMs?: number; apiKey?: string } = {}) =>
    new OpenAiCompatibleStoryWriter({ baseUrl, apiKey: options.apiKey ?? API_KEY, model: 'fake-chat', timeoutMs: options.timeoutMs ?? 10_000 });

  describe('story writer', () => {
    it('writes a story from the default answer and sends model, key, language and style', async () => {
      const story = await writer().write(storyRequest());

      expect(story.title).toBe('Mai lived by the river');
      expect(story.content).toBe(SOURCE);
      expect(story.imagePrompts).toHaveLength(3); // 50 words / 20 per image
      expect(story.imagePrompts[0]).toContain('Mai lived by the river');
      expect(story.model).toBe('fake-chat');

      const [request] = server.requestsTo('chat');
      expect(server.requests).toHaveLength(1);
      expect(request!.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(request!.body.model).toBe('fake-chat');
      expect(request!.body.response_format).toEqual({ type: 'json_object' });
      const messages = request!.body.messages as Array<{ role: string; content: string }>;
      expect(messages.map((m) => m.role)).toEqual(['system', 'user']);
      const prompt = messages.map((m) => m.content).join('\n');
      expect(prompt).toContain('Vietnamese');
      expect(prompt).toContain('Genre: fairy tale');
      expect(prompt).toContain('Tone: warm');
      expect(prompt).toContain('Target audience: children 6-8');
      expect(prompt).toMatch(/Length: short/);
      expect(prompt).toContain('Give the heron a name.');
      expect(prompt).toContain('one image prompt per about 20 words');
      expect(prompt).toContain(SOURCE);
    });

    it('accepts JSON in a ```json fence and JSON surrounded by prose', async () => {
      server.enqueue(
        'chat',
        { kind: 'chat', content: 'Here is your story:\n```json\n' + JSON.stringify(storyJson, null, 2) + '\n```\nEnjoy!' },
        { kind: 'chat', content: `<think>plan the story</think>Sure! ${JSON.stringify(storyJson)} Hope you like it {:}` },
      );
      for (let i = 0; i < 2; i++) {
        const story = await writer().write(storyRequest());
        expect(story).toEqual({ title: storyJson.title, content: storyJson.story, imagePrompts: storyJson.imagePrompts, model: 'fake-chat' });
      }
    });

    const wrongShape = JSON.stringify({ title: 'T', imagePrompts: 'one' });
    const good = JSON.stringify(storyJson);
    const chatMessages = (index: number) => server.requestsTo('chat')[index]!.body.messages as Array<{ role: string; content: string }>;

    it('asks again after wrong-shaped JSON, telling the model what was wrong, and takes the third answer', async () => {
      server.enqueue('chat', { kind: 'chat', content: wrongShape }, { kind: 'chat', content: wrongShape }, { kind: 'chat', content: good });
      const story = await writer().write(storyRequest());
      expect(story).toEqual({ title: storyJson.title, content: storyJson.story, imagePrompts: storyJson.imagePrompts, model: 'fake-chat' });
      expect(server.requestsTo('chat')).toHaveLength(3);

      const first = chatMessages(0);
      expect(first.map((m) => m.role)).toEqual(['system', 'user']);
      const third = chatMessages(2);
      expect(third.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'user']);
      // The original request stays first; the model sees its own answer and what was wrong with it.
      expect(third.slice(0, 2)).toEqual(first);
      expect(third[2]!.content).toBe(wrongShape);
      expect(third[3]!.content).toContain('story: ');
      expect(third[3]!.content).toContain('imagePrompts: ');
      expect(third[3]!.content).toContain('{"title": string, "story": string, "imagePrompts": string[], "visualDescription": string}');
      for (const request of server.requestsTo('chat')) expect(request.body.response_format).toEqual({ type: 'json_object' });
    });

    it("writes the story from the source when the server's default answer follows a bad one", async () => {
      server.enqueue('chat', { kind: 'chat', content: 'Sure! Here is your story: once upon a time…' });
      const story = await writer().write(storyRequest());
      expect(story.title).toBe('Mai lived by the river');
      expect(story.content).toBe(SOURCE);
      expect(server.requestsTo('chat')).toHaveLength(2);
      expect(chatMessages(1).at(-1)!.content).toContain('no JSON object found');
    });

    it('asks again after an empty answer without echoing it', async () => {
      server.enqueue('chat', { kind: 'chat', content: '' }, { kind: 'chat', content: good });
      expect((await writer().write(storyRequest())).title).toBe(storyJson.title);
      expect(chatMessages(1).map((m) => m.role)).toEqual(['system', 'user', 'user']);
      expect(chatMessages(1)[2]!.content).toContain('the answer is empty');
    });

    it('fails permanent after exactly 1 + STORY_SCHEMA_REASKS asks when the shape is always wrong, naming the problem', async () => {
      expect(STORY_SCHEMA_REASKS).toBe(2);
      // A good answer waits behind the bad ones: a 4th ask would succeed.
      server.enqueue('chat', { kind: 'chat', content: wrongShape }, { kind: 'chat', content: wrongShape }, { kind: 'chat', content: wrongShape });
      server.enqueue('chat', { kind: 'chat', content: good });
      const schema = await providerError(writer().write(storyRequest()));
      expect(server.requestsTo('chat')).toHaveLength(3);
      expect(schema.kind).toBe('permanent');
      expect(schema.provider).toBe('openai-compatible');
      expect(schema.message).toContain('could not answer in the expected JSON schema after 3 asks');
      expect(schema.message).toContain("the model's answer is not the expected JSON");
      expect(schema.message).toMatch(/story: /);
      expect(schema.message).toMatch(/imagePrompts: /);
      expect(schema.message).not.toContain('ask 1:');

      server.reset();
      const prose = 'The river flowed on and on, and that is the whole story.';
      server.enqueue('chat', { kind: 'chat', content: prose }, { kind: 'chat', content: wrongShape }, { kind: 'chat', content: prose });
      const mixed = await providerError(writer().write(storyRequest()));
      expect(server.requestsTo('chat')).toHaveLength(3);
      expect(mixed.kind).toBe('permanent');
      expect(mixed.message).toMatch(/after 3 asks: ask 1: .*no JSON object found.*; ask 2: .*story: .*; ask 3: .*no JSON object found/);
    });

    it('keeps each ask under the deadline and the caller\'s signal', async () => {
      server.enqueue('chat', { kind: 'chat', content: wrongShape }, { kind: 'default', delayMs: 5_000 });
      const started = Date.now();
      const slow = await providerError(writer({ timeoutMs: 500 }).write(storyRequest()));
      expect(slow.kind).toBe('transient');
      expect(slow.message).toContain('timed out');
      expect(Date.now() - started).toBeLessThan(2_500);
      expect(server.requestsTo('chat')).toHaveLength(2);

      server.reset();
      server.enqueue('chat', { kind: 'chat', content: wrongShape }, { kind: 'hang' });
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('cancelled by user')), 300);
      await expect(writer().write(storyRequest({ signal: controller.signal }))).rejects.toThrow('cancelled by user');
      expect(server.requestsTo('chat')).toHaveLength(2);
    });

    it('reports a refusal as permanent: refusal field, content filter, or an apology with no JSON', async () => {
      server.enqueue(
        'chat',
        { kind: 'chat', refusal: "I'm sorry, I can't help with that request." },
        { kind: 'chat', content: '', finishReason: 'content_filter' },
        { kind: 'chat', content: "I'm sorry, but I cannot write this story." },
      );
      for (let i = 0; i < 3; i++) {
        const error = await providerError(writer().write(storyRequest()));
        expect(error.kind).toBe('permanent');
        expect(error.message).toContain('the model refused');
        expect(error.message).not.toContain('after');
        expect(server.requestsTo('chat')).toHaveLength(i + 1); // never asked again
      }
    });

    it('fails a refusal permanent after 1 request, even with a good answer waiting', async () => {
      server.enqueue('chat', { kind: 'chat', refusal: 'I cannot help with that.' }, { kind: 'chat', content: good });
      const error = await providerError(writer().write(storyRequest()));
      expect(error.kind).toBe('permanent');
      expect(error.message).toContain('the model refused to write the story: I cannot help with that.');
      expect(server.requestsTo('chat')).toHaveLength(1);
    });

    it('gives a 429 with Retry-After: 2 as transient with retryAfterMs 2000, and reads retry-after-ms', async () => {
      server.enqueue(
        'chat',
        { kind: 'error', status: 429, message: 'Rate limit reached for requests', headers: { 'retry-after': '2' } },
        { kind: 'error', status: 429, message: 'Rate limit reached for requests', headers: { 'retry-after': '1', 'retry-after-ms': '1250' } },
        { kind: 'error', status: 429, message: 'You exceeded your current quota' },
      );
      const limited = await providerError(writer().write(storyRequest()));
      expect(limited.kind).toBe('transient');
      expect(limited.retryAfterMs).toBe(2000);
      expect(limited.message).toContain('HTTP 429: Rate limit reached for requests (Retry-After: 2)');

      const precise = await providerError(writer().write(storyRequest()));
      expect(precise.kind).toBe('transient');
      expect(precise.retryAfterMs).toBe(1250);

      const silent = await providerError(writer().write(storyRequest()));
      expect(silent.kind).toBe('transient');
      expect(silent.retryAfterMs).toBeUndefined();
      expect(server.requestsTo('chat')).toHaveLength(3); // a 429 is never re-asked within the call
    });

    it('sorts HTTP failures: 500 and 429 transient, 401 and 404 permanent with the server message', async () => {
      server.enqueue(
        'chat',
        { kind: 'error', status: 500, message: 'The server had an error while processing your request.' },
        { kind: 'error', status: 429, message: 'Rate limit reached for requests', headers: { 'retry-after': '7' } },
        { kind: 'error', status: 404, message: 'The model `fake-chat` does not exist', code: 'model_not_found' },
      );
      const e500 = await providerError(writer().write(storyRequest()));
      expect(e500.kind).toBe('transient');
      expect(e500.message).toContain('HTTP 500');
      expect(e500.retryAfterMs).toBeUndefined();

      const e429 = await providerError(writer().write(storyRequest()));
      expect(e429.kind).toBe('transient');
      expect(e429.message).toContain('HTTP 429: Rate limit reached for requests');
      expect(e429.message).toContain('Retry-After: 7');
      expect(e429.retryAfterMs).toBe(7000);

      const e404 = await providerError(writer().write(storyRequest()));
      expect(e404.kind).toBe('permanent');
      expect(e404.message).toContain('HTTP 404: The model `fake-chat` does not exist');

      // The server checks the key itself: a wrong one gets OpenAI's 401.
      const e401 = await providerError(writer({ apiKey: 'sk-wrong' }).write(storyRequest()));
      expect(e401.kind).toBe('permanent');
      expect(e401.message).toContain('HTTP 401: Incorrect API key provided.');
      expect(e401.message).not.toContain('sk-wrong');
      expect(server.requests).toHaveLength(4); // maxRetries 0: the SDK never retried
    });

    it('times out a slow server as transient, without waiting for it', async () => {
      server.enqueue('chat', { kind: 'default', delayMs: 5_000 });
      const started = Date.now();
      const error = await providerError(writer({ timeoutMs: 300 }).write(storyRequest()));
      expect(error.kind).toBe('transient');
      expect(error.message).toContain('timed out');
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it("rethrows the caller's abort unchanged", async () => {
      server.enqueue('chat', { kind: 'hang' });
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('cancelled by user')), 100);
      await expect(writer().write(storyRequest({ signal: controller.signal }))).rejects.toThrow('cancelled by user');
    });

    it('treats a dropped connection, a refused connection and an unreadable 200 body as transient', async () => {
      server.enqueue('chat', { kind: 'drop' }, { kind: 'raw', body: '{"id": "chatcmpl-1", "choices": [' });
      expect((await providerError(writer().write(storyRequest()))).kind).toBe('transient');
      const unreadable = await providerError(writer().write(storyRequest()));
      expect(unreadable.kind).toBe('transient');
      expect(unreadable.message).toContain('not valid JSON');

      const closed = new FakeOpenAiServer();
      const { baseUrl: deadUrl } = await closed.start();
      await closed.close();
      const refused = new OpenAiCompatibleStoryWriter({ baseUrl: deadUrl, model: 'm', timeoutMs: 5_000 });
      const error = await providerError(refused.write(storyRequest()));
      expect(error.kind).toBe('transient');
      expect(error.message).toContain('cannot reach');
    });

    it('asks again without JSON mode when the server rejects response_format (LM Studio)', async () => {
      server.enqueue('chat', {
        kind: 'error',
        status: 400,
        body: { error: "'response_format.type' must be 'json_schema' or 'text'" },
      });
      const lmStudio = writer();
      await lmStudio.write(storyRequest());
      await lmStudio.write(storyRequest());
      const bodies = server.requestsTo('chat').map((request) => request.body);
      expect(bodies).toHaveLength(3);
      expect(bodies[0].response_format).toEqual({ type: 'json_object' });
      expect(bodies[1].response_format).toBeUndefined();
      expect(bodies[2].response_format).toBeUndefined();
    });

    it('sends no real key when none is configured', async () => {
      const open = new FakeOpenAiServer();
      const { baseUrl: openUrl } = await open.start();
      try {
        const keyless = new OpenAiCompatibleStoryWriter({ baseUrl: openUrl, model: 'llama3', timeoutMs: 5_000 });
        const story = await keyless.write(storyRequest({ language: 'en' }));
        expect(story.model).toBe('llama3');
        expect(open.requests[0]!.headers.authorization).toBe('Bearer no-api-key');
      } finally {
        await open.close();
      }
    });
  });

  describe('image generator', () => {
    const generator = () =>
      new OpenAiCompatibleImageGenerator({ baseUrl, apiKey: API_KEY, model: 'fake-image', size: '1536x1024', timeoutMs: 10_000 });
    const imageRequest = {
      prompt: 'a small boat drifting toward a girl on a river bank',
      text: 'One day a small boat came without a rower.',
      index: 1,
      total: 3,
      title: 'The river',
      style: { genre: 'fairy tale', tone: 'warm' },
      language: 'en',
    };

    it('returns PNG bytes and sends model, size and a prompt with a style hint', async () => {
      const image = await generator().generate(imageRequest);
      expect([...image.data.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
      expect(image).toMatchObject({ mediaType: 'image/png', extension: 'png', placeholder: false, model: 'fake-image' });
      // IHDR: 1536x1024 scaled to 256x171 by the fake server.
      const view = Buffer.from(image.data);
      expect([view.readUInt32BE(16), view.readUInt32BE(20)]).toEqual([256, 171]);

      const [request] = server.requestsTo('images');
      expect(request!.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(request!.body).toMatchObject({ model: 'fake-image', size: '1536x1024', n: 1 });
      expect(request!.body.prompt).toContain(imageRequest.prompt);
      expect(request!.body.prompt).toContain('fairy tale');
      expect(request!.body.prompt).toContain('warm mood');
    });

    it('detects JPEG bytes and maps errors like the story writer', async () => {
      const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46]);
      server.enqueue(
        'images',
        { kind: 'raw', body: JSON.stringify({ created: 1, data: [{ b64_json: jpeg.toString('base64') }] }) },
        { kind: 'error', status: 503, message: 'overloaded', headers: { 'retry-after': '30' } },
        { kind: 'error', status: 400, message: 'Your request was rejected by the safety system.', code: 'content_policy_violation' },
      );
      expect(await generator().generate(imageRequest)).toMatchObject({ mediaType: 'image/jpeg', extension: 'jpg' });
      const overloaded = await providerError(generator().generate(imageRequest));
      expect(overloaded.kind).toBe('transient');
      expect(overloaded.retryAfterMs).toBe(30_000);
      const rejected = await providerError(generator().generate(imageRequest));
      expect(rejected.kind).toBe('permanent');
      expect(rejected.retryAfterMs).toBeUndefined();
      expect(rejected.message).toContain('HTTP 400: Your request was rejected by the safety system.');
    });
  });

  describe('speech synthesizer', () => {
    const synthesizer = (voice = 'alloy') =>
      new OpenAiCompatibleSpeechSynthesizer({ baseUrl, apiKey: API_KEY, model: 'fake-speech', voice, timeoutMs: 10_000 });

    it('returns MP3 audio, asks for mp3, and lets the request choose the voice', async () => {
      const speech = await synthesizer().synthesize({ text: 'Mai lived by the river.', language: 'en', voice: 'nova' });
      expect(speech).toMatchObject({ mediaType: 'audio/mpeg', extension: 'mp3', voice: 'nova', model: 'fake-speech' });
      expect(speech.data.length).toBeGreaterThan(1000);
      const head = Buffer.from(speech.data.subarray(0, 3));
      expect(head.toString('latin1') === 'ID3' || (head[0] === 0xff && (head[1]! & 0xe0) === 0xe0)).toBe(true);

      const [request] = server.requestsTo('speech');
      expect(request!.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(request!.body).toMatchObject({ model: 'fake-speech', input: 'Mai lived by the river.', voice: 'nova', response_format: 'mp3' });

      const fallback = await synthesizer('echo').synthesize({ text: 'Hello.', language: 'en' });
      expect(fallback.voice).toBe('echo');
      expect(server.requestsTo('speech')[1]!.body.voice).toBe('echo');
    });

    it('reports WAV when the server sends WAV despite asking for MP3', async () => {
      const wavServer = new FakeOpenAiServer({ speechFormat: 'wav' });
      const { baseUrl: wavUrl } = await wavServer.start();
      try {
        const speech = await new OpenAiCompatibleSpeechSynthesizer({ baseUrl: wavUrl, model: 'kokoro', voice: 'af_heart', timeoutMs: 5_000 }).synthesize({
          text: 'Hello there.',
          language: 'en',
        });
        expect(speech).toMatchObject({ mediaType: 'audio/wav', extension: 'wav' });
        expect(Buffer.from(speech.data.subarray(0, 4)).toString('latin1')).toBe('RIFF');
      } finally {
        await wavServer.close();
      }
    });

    it('refuses text over maxInputChars before any HTTP call', async () => {
      const speech = synthesizer();
      expect(speech.maxInputChars).toBe(4096);
      const error = await providerError(speech.synthesize({ text: 'a'.repeat(5000), language: 'en' }));
      expect(error.kind).toBe('permanent');
      expect(error.message).toContain('5000 characters');
      expect(server.requests).toHaveLength(0);
    });

    it('maps a 500 to transient', async () => {
      server.enqueue('speech', { kind: 'error', status: 500, message: 'boom' });
      const error = await providerError(synthesizer().synthesize({ text: 'Hello.', language: 'en' }));
      expect(error.kind).toBe('transient');
      expect(error.message).toContain('HTTP 500: boom');
    });
  });
});

describe('parseStoryAnswer', () => {
  it('accepts image_prompts and drops empty prompts', () => {
    const parsed = parseStoryAnswer(JSON.stringify({ title: 'T', story: 'S', image_prompts: ['a', ' ', 'b'] }));
    expect(parsed).toEqual({ ok: true, value: { title: 'T', story: 'S', imagePrompts: ['a', 'b'] } });
  });

  it('says when a truncated answer was cut off', () => {
    const parsed = parseStoryAnswer('{"title": "T", "story": "Once upon', true);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.problem).toContain('cut off');
  });

  it('skips braces inside strings when looking for the object', () => {
    const parsed = parseStoryAnswer('Answer: {"title": "A {curly} title", "story": "x } y", "imagePrompts": []} done');
    expect(parsed).toEqual({ ok: true, value: { title: 'A {curly} title', story: 'x } y', imagePrompts: [] } });
  });
});
