import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Automatic1111ImageGenerator } from '../../../src/providers/image/automatic1111.js';
import { ComfyUiImageGenerator } from '../../../src/providers/image/comfyui.js';
import { GeminiImageGenerator } from '../../../src/providers/image/gemini.js';
import { ProviderError } from '../../../src/providers/provider-error.js';
import type { ImageRequest } from '../../../src/providers/types.js';
import { FakeVendorServer } from '../../support/fake-vendor-server.js';

const KEY = 'secret-key-789';
/** A 1×1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==', 'base64');
const request: ImageRequest = {
  prompt: 'a girl watching herons by a river',
  text: 'Mai counted the herons.',
  index: 0,
  total: 2,
  title: 'Herons',
  style: { genre: 'fairy tale' },
  language: 'vi',
  visualDescription: 'Mai: 8-year-old girl in a red ao dai; soft watercolour',
  seed: 424242,
};

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProviderError);
  expect((error as Error).message).not.toContain(KEY);
  return error as ProviderError;
}

describe('image generators over HTTP', () => {
  const server = new FakeVendorServer();
  let base = '';
  beforeAll(async () => {
    base = await server.start();
  });
  afterAll(() => server.close());
  beforeEach(() => server.reset());

  describe('gemini', () => {
    const gemini = (model: string) => new GeminiImageGenerator({ baseUrl: `${base}/v1beta`, apiKey: KEY, model, timeoutMs: 10_000 });

    it('Imagen: :predict with the prompt carrying the visual description, 16:9', async () => {
      server.on('POST', /^\/v1beta\/models\/imagen-4\.0-generate-001:predict$/, (r) => {
        expect(r.headers['x-goog-api-key']).toBe(KEY);
        expect(r.body.instances[0].prompt).toContain('a girl watching herons');
        expect(r.body.instances[0].prompt).toContain('red ao dai');
        expect(r.body.parameters).toMatchObject({ sampleCount: 1, aspectRatio: '16:9' });
        return { body: { predictions: [{ bytesBase64Encoded: PNG.toString('base64'), mimeType: 'image/png' }] } };
      });
      const image = await gemini('imagen-4.0-generate-001').generate(request);
      expect(Buffer.from(image.data).equals(PNG)).toBe(true);
      expect(image).toMatchObject({ extension: 'png', placeholder: false, model: 'imagen-4.0-generate-001' });
    });

    it('Imagen: a picture withheld by the safety filter is permanent; 429 carries Retry-After', async () => {
      server.on('POST', /:predict$/, () => ({ body: { predictions: [{ raiFilteredReason: 'Your current safety filter threshold prohibited one or more images.' }] } }));
      const withheld = await failure(gemini('imagen-4.0-generate-001').generate(request));
      expect(withheld.kind).toBe('permanent');
      expect(withheld.message).toContain('safety filter threshold');
      server.reset();
      server.on('POST', /:predict$/, () => ({ status: 429, headers: { 'retry-after': '5' }, body: { error: { code: 429, message: 'Resource has been exhausted.', status: 'RESOURCE_EXHAUSTED' } } }));
      expect(await failure(gemini('imagen-4.0-generate-001').generate(request))).toMatchObject({ kind: 'transient', retryAfterMs: 5000, keyFault: 'rate-limit' });
    });

    it('Gemini image model: generateContent with IMAGE modality, the image from inlineData; IMAGE_SAFETY is permanent', async () => {
      server.on('POST', /^\/v1beta\/models\/gemini-2\.5-flash-image:generateContent$/, (r) => {
        expect(r.body.generationConfig.responseModalities).toEqual(['TEXT', 'IMAGE']);
        return { body: { candidates: [{ content: { parts: [{ text: 'Here it is' }, { inlineData: { mimeType: 'image/png', data: PNG.toString('base64') } }] }, finishReason: 'STOP' }] } };
      });
      const image = await gemini('gemini-2.5-flash-image').generate(request);
      expect(Buffer.from(image.data).equals(PNG)).toBe(true);
      server.reset();
      server.on('POST', /:generateContent$/, () => ({ body: { candidates: [{ content: { parts: [] }, finishReason: 'IMAGE_SAFETY' }] } }));
      expect((await failure(gemini('gemini-2.5-flash-image').generate(request))).kind).toBe('permanent');
      server.reset();
      server.on('POST', /:generateContent$/, () => ({ status: 503, body: { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } } }));
      expect((await failure(gemini('gemini-2.5-flash-image').generate(request))).kind).toBe('transient');
    });
  });

  describe('automatic1111', () => {
    const sd = (apiKey?: string) => new Automatic1111ImageGenerator({ baseUrl: base, apiKey, model: 'dreamshaper_8', size: { width: 1024, height: 576 }, timeoutMs: 10_000 });

    it('POSTs txt2img with prompt, negative prompt, the story seed and size; returns the base64 PNG', async () => {
      server.on('POST', /^\/sdapi\/v1\/txt2img$/, (r) => {
        expect(r.headers.authorization).toBe(`Basic ${Buffer.from('user:pw').toString('base64')}`);
        expect(r.body).toMatchObject({ seed: 424242, width: 1024, height: 576, override_settings: { sd_model_checkpoint: 'dreamshaper_8' } });
        expect(r.body.prompt).toContain('red ao dai');
        expect(r.body.negative_prompt).toContain('text');
        return { body: { images: [PNG.toString('base64')], parameters: {}, info: '{}' } };
      });
      const image = await sd('user:pw').generate(request);
      expect(Buffer.from(image.data).equals(PNG)).toBe(true);
    });

    it('maps its errors: out of memory 500 transient, 422 permanent, 429 with Retry-After', async () => {
      server.on('POST', /txt2img$/, () => ({ status: 500, body: { error: 'OutOfMemoryError', detail: '', body: '', errors: 'CUDA out of memory. Tried to allocate 2.00 GiB' } }));
      const oom = await failure(sd().generate(request));
      expect(oom.kind).toBe('transient');
      expect(oom.message).toContain('OutOfMemoryError');
      server.reset();
      server.on('POST', /txt2img$/, () => ({ status: 422, body: { detail: [{ loc: ['body', 'width'], msg: 'value is not a valid integer', type: 'type_error.integer' }] } }));
      expect((await failure(sd().generate(request))).kind).toBe('permanent');
      server.reset();
      server.on('POST', /txt2img$/, () => ({ status: 429, headers: { 'retry-after': '4' }, body: { detail: 'busy' } }));
      expect(await failure(sd().generate(request))).toMatchObject({ kind: 'transient', retryAfterMs: 4000 });
    });
  });

  describe('comfyui', () => {
    const workflowFile = path.resolve('assets/comfyui/txt2img.json');
    const comfy = (file = workflowFile) =>
      new ComfyUiImageGenerator({ baseUrl: base, workflowFile: file, model: 'sd_xl_base_1.0.safetensors', size: { width: 1280, height: 720 }, timeoutMs: 10_000, pollMs: 20 });

    it('queues the shipped workflow with its placeholders filled, polls history, downloads the image', async () => {
      let polls = 0;
      server.on('POST', /^\/prompt$/, (r) => {
        const nodes = r.body.prompt;
        expect(nodes['3'].inputs.seed).toBe(424242);
        expect(nodes['5'].inputs).toMatchObject({ width: 1280, height: 720 });
        expect(nodes['4'].inputs.ckpt_name).toBe('sd_xl_base_1.0.safetensors');
        expect(nodes['6'].inputs.text).toContain('a girl watching herons');
        expect(nodes['6'].inputs.text).toContain('red ao dai');
        expect(nodes['7'].inputs.text).toContain('watermark');
        expect(typeof r.body.client_id).toBe('string');
        return { body: { prompt_id: 'p-1', number: 1, node_errors: {} } };
      });
      server.on('GET', /^\/history\/p-1$/, () => {
        polls++;
        if (polls < 3) return { body: {} };
        return { body: { 'p-1': { outputs: { 9: { images: [{ filename: 'storyforge_00001_.png', subfolder: '', type: 'output' }] } }, status: { status_str: 'success', completed: true, messages: [] } } } };
      });
      server.on('GET', /^\/view$/, (r) => {
        expect(r.query.get('filename')).toBe('storyforge_00001_.png');
        expect(r.query.get('type')).toBe('output');
        return { body: PNG };
      });
      const image = await comfy().generate(request);
      expect(Buffer.from(image.data).equals(PNG)).toBe(true);
      expect(polls).toBe(3);
    });

    it('a workflow ComfyUI refuses is permanent; an execution error transient; a missing workflow file is named', async () => {
      server.on('POST', /^\/prompt$/, () => ({
        status: 400,
        body: { error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '', extra_info: {} }, node_errors: { 4: { errors: [{ type: 'value_not_in_list', message: 'Value not in list' }] } } },
      }));
      const refused = await failure(comfy().generate(request));
      expect(refused.kind).toBe('permanent');
      expect(refused.message).toContain('Prompt outputs failed validation');
      server.reset();
      server.on('POST', /^\/prompt$/, () => ({ body: { prompt_id: 'p-2', number: 2, node_errors: {} } }));
      server.on('GET', /^\/history\/p-2$/, () => ({
        body: { 'p-2': { outputs: {}, status: { status_str: 'error', completed: false, messages: [['execution_error', { exception_message: 'Allocation on device', exception_type: 'torch.OutOfMemoryError' }]] } } },
      }));
      const failed = await failure(comfy().generate(request));
      expect(failed.kind).toBe('transient');
      expect(failed.message).toContain('Allocation on device');
      const missing = await failure(comfy('/nonexistent/workflow.json').generate(request));
      expect(missing.message).toContain('/nonexistent/workflow.json');
    });

    it('429 from a proxy in front of ComfyUI carries Retry-After', async () => {
      server.on('POST', /^\/prompt$/, () => ({ status: 429, headers: { 'retry-after': '6' }, body: { error: 'Too Many Requests' } }));
      expect(await failure(comfy().generate(request))).toMatchObject({ kind: 'transient', retryAfterMs: 6000 });
    });
  });
});
