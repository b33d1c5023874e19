import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../../src/providers/provider-error.js';
import { AnthropicStoryWriter } from '../../../src/providers/story-writer/anthropic.js';
import { GeminiStoryWriter } from '../../../src/providers/story-writer/gemini.js';
import { OpenAiStoryWriter } from '../../../src/providers/story-writer/openai.js';
import type { StoryWriteRequest, StoryWriter } from '../../../src/providers/types.js';
import { FakeVendorServer } from '../../support/fake-vendor-server.js';

const KEY = 'secret-key-123';
const request: StoryWriteRequest = {
  sourceText: 'Mai lived by the river and counted the herons every morning.',
  language: 'vi',
  style: { genre: 'fairy tale', tone: 'warm', length: 'short', targetAudience: 'children' },
  customPrompt: 'Give the heron a name.',
  wordPerChunkImage: 20,
};
const answer = JSON.stringify({
  title: 'Con cò',
  story: 'Mai sống bên sông.\n\nMỗi sáng cô đếm những con cò.',
  imagePrompts: ['a girl by a river'],
  visualDescription: 'Mai: 8-year-old girl, black bob, red ao dai; misty river village; soft watercolour',
});

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProviderError);
  expect(String((error as Error).message)).not.toContain(KEY);
  return error as ProviderError;
}

/** What each vendor's answers and errors look like on the wire, per its API reference. */
interface Vendor {
  name: string;
  method: string;
  path: RegExp;
  make(baseUrl: string): StoryWriter;
  checkRequest(request: import('../../support/fake-vendor-server.js').VendorRequest): void;
  ok(text: string, finish?: 'stop' | 'length' | 'filter'): unknown;
  rateLimited: { status: number; body: unknown };
  quota: { status: number; body: unknown };
  overloaded: { status: number; body: unknown };
  invalid: { status: number; body: unknown };
}

const vendors: Vendor[] = [
  {
    name: 'gemini',
    method: 'POST',
    path: /^\/v1beta\/models\/gemini-2\.5-flash:generateContent$/,
    make: (base) => new GeminiStoryWriter({ baseUrl: `${base}/v1beta`, apiKey: KEY, model: 'gemini-2.5-flash', timeoutMs: 10_000 }),
    checkRequest(r) {
      expect(r.headers['x-goog-api-key']).toBe(KEY);
      expect(r.body.contents[0].parts[0].text).toContain('Give the heron a name.');
      expect(r.body.generationConfig.responseMimeType).toBe('application/json');
      expect(JSON.stringify(r.body.systemInstruction)).toContain('visualDescription');
    },
    ok: (text, finish = 'stop') => ({
      candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: { stop: 'STOP', length: 'MAX_TOKENS', filter: 'SAFETY' }[finish], index: 0 }],
      usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 20, totalTokenCount: 30 },
      modelVersion: 'gemini-2.5-flash',
    }),
    rateLimited: { status: 429, body: { error: { code: 429, message: 'Resource has been exhausted (e.g. check quota).', status: 'RESOURCE_EXHAUSTED' } } },
    quota: { status: 429, body: { error: { code: 429, message: 'You exceeded your current quota, please check your plan and billing details.', status: 'RESOURCE_EXHAUSTED' } } },
    overloaded: { status: 503, body: { error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } } },
    invalid: { status: 400, body: { error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT' } } },
  },
  {
    name: 'anthropic',
    method: 'POST',
    path: /^\/v1\/messages$/,
    make: (base) => new AnthropicStoryWriter({ baseUrl: `${base}/v1`, apiKey: KEY, model: 'claude-sonnet-4-5', timeoutMs: 10_000 }),
    checkRequest(r) {
      expect(r.headers['x-api-key']).toBe(KEY);
      expect(r.headers['anthropic-version']).toBe('2023-06-01');
      expect(r.body.model).toBe('claude-sonnet-4-5');
      expect(typeof r.body.max_tokens).toBe('number');
      expect(JSON.stringify(r.body.system)).toContain('visualDescription');
      expect(JSON.stringify(r.body.messages)).toContain('Give the heron a name.');
    },
    ok: (text, finish = 'stop') => ({
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text }],
      stop_reason: { stop: 'end_turn', length: 'max_tokens', filter: 'refusal' }[finish],
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 20 },
    }),
    rateLimited: { status: 429, body: { type: 'error', error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' } } },
    quota: { status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'Your credit balance is too low to access the Anthropic API.' } } },
    overloaded: { status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } },
    invalid: { status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: must be positive' } } },
  },
  {
    name: 'openai',
    method: 'POST',
    path: /^\/v1\/responses$/,
    make: (base) => new OpenAiStoryWriter({ baseUrl: `${base}/v1`, apiKey: KEY, model: 'gpt-4.1-mini', timeoutMs: 10_000 }),
    checkRequest(r) {
      expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(r.body.model).toBe('gpt-4.1-mini');
      expect(JSON.stringify(r.body.input)).toContain('Give the heron a name.');
      expect(r.body.text?.format?.type).toBe('json_object');
    },
    ok: (text, finish = 'stop') => ({
      id: 'resp_1',
      object: 'response',
      created_at: 1_700_000_000,
      status: finish === 'stop' ? 'completed' : 'incomplete',
      incomplete_details: finish === 'stop' ? null : { reason: finish === 'length' ? 'max_output_tokens' : 'content_filter' },
      model: 'gpt-4.1-mini',
      output: [{ type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] }],
      usage: { input_tokens: 10, output_tokens: 20, total_tokens: 30 },
    }),
    rateLimited: { status: 429, body: { error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded', param: null } } },
    quota: { status: 429, body: { error: { message: 'You exceeded your current quota, please check your plan and billing details.', type: 'insufficient_quota', code: 'insufficient_quota', param: null } } },
    overloaded: { status: 503, body: { error: { message: 'The engine is currently overloaded, please try again later', type: 'server_error', code: null, param: null } } },
    invalid: { status: 400, body: { error: { message: "Invalid value for 'model'", type: 'invalid_request_error', code: null, param: 'model' } } },
  },
];

describe.each(vendors)('$name story writer over HTTP', (vendor) => {
  const server = new FakeVendorServer();
  let base = '';
  beforeAll(async () => {
    base = await server.start();
  });
  afterAll(() => server.close());
  beforeEach(() => server.reset());

  const reply = (status: number, body: unknown, headers?: Record<string, string>) =>
    server.on(vendor.method, vendor.path, () => ({ status, body, headers }));

  it('sends the documented request and returns the story with its visual description', async () => {
    server.on(vendor.method, vendor.path, (r) => {
      vendor.checkRequest(r);
      return { body: vendor.ok(answer) };
    });
    const story = await vendor.make(base).write(request);
    expect(server.requests).toHaveLength(1);
    expect(story.title).toBe('Con cò');
    expect(story.imagePrompts).toEqual(['a girl by a river']);
    expect(story.visualDescription).toContain('red ao dai');
  });

  it('an answer cut off at the token limit is a retryable error, never a shorter story', async () => {
    reply(200, vendor.ok(answer.slice(0, 40), 'length'));
    const error = await failure(vendor.make(base).write(request));
    expect(error.kind).toBe('transient');
    expect(error.message).toMatch(/cut off/);
  });

  it('429 with Retry-After is transient, carries the wait and rests the key', async () => {
    reply(vendor.rateLimited.status, vendor.rateLimited.body, { 'retry-after': '7' });
    const error = await failure(vendor.make(base).write(request));
    expect(error).toMatchObject({ kind: 'transient', retryAfterMs: 7000, status: 429, keyFault: 'rate-limit' });
  });

  it('a used-up quota rests the key', async () => {
    reply(vendor.quota.status, vendor.quota.body);
    const error = await failure(vendor.make(base).write(request));
    if (vendor.name === 'anthropic') {
      // Anthropic reports low credit as a 400 invalid_request_error: no retry helps.
      expect(error.kind).toBe('permanent');
    } else {
      expect(error).toMatchObject({ kind: 'transient', keyFault: 'quota' });
    }
    expect(error.message).toMatch(/quota|credit/);
  });

  it('an overloaded model is transient', async () => {
    reply(vendor.overloaded.status, vendor.overloaded.body);
    const error = await failure(vendor.make(base).write(request));
    expect(error.kind).toBe('transient');
    expect(error.message).toMatch(/overloaded/i);
  });

  it('a bad request is permanent with the server\'s message', async () => {
    reply(vendor.invalid.status, vendor.invalid.body);
    const error = await failure(vendor.make(base).write(request));
    expect(error.kind).toBe('permanent');
    expect(error.message).toContain(`HTTP ${vendor.invalid.status}`);
  });

  it('a content-policy stop is a permanent refusal', async () => {
    reply(200, vendor.ok('', 'filter'));
    const error = await failure(vendor.make(base).write(request));
    expect(error.kind).toBe('permanent');
    expect(error.message).toMatch(/refused/);
    expect(server.requests).toHaveLength(1);
  });
});
