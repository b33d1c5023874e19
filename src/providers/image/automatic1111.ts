import { z } from 'zod';
import { callProvider, describeCall, fetchChecked, type ProviderCallContext } from '../provider-call.js';
import { ProviderError } from '../provider-error.js';
import type { GeneratedImage, ImageGenerator, ImageRequest } from '../types.js';
import { type ImageSize, NEGATIVE_PROMPT } from './image-size.js';
import { buildImagePrompt, detectImageType } from './openai-compatible.js';

export interface Automatic1111Options {
  /** Web UI root started with `--api`, e.g. `http://127.0.0.1:7860`. */
  baseUrl: string;
  /** `user:password` when the web UI runs with `--api-auth`; sent as HTTP Basic auth. */
  apiKey?: string;
  /** Checkpoint title to use (`override_settings.sd_model_checkpoint`); the loaded one when absent. */
  model?: string;
  size: ImageSize;
  /** Sampling steps (default 25). */
  steps?: number;
  timeoutMs: number;
}

const answerSchema = z.object({ images: z.array(z.string()).min(1) });

/**
 * Draws a picture with Stable Diffusion through the AUTOMATIC1111 web UI API (also Forge and
 * SD.Next): `POST {baseUrl}/sdapi/v1/txt2img` with prompt, negative prompt, the story's seed and
 * the picture size; the answer's `images[0]` is a base64 PNG. Its errors (`{error, detail, errors}`,
 * e.g. CUDA out of memory as a 500) are transient, a 422 validation error permanent.
 */
export class Automatic1111ImageGenerator implements ImageGenerator {
  readonly name = 'automatic1111';
  private readonly context: ProviderCallContext;

  constructor(private readonly options: Automatic1111Options) {
    this.context = {
      provider: 'automatic1111',
      capability: 'image generator',
      model: options.model ?? 'loaded checkpoint',
      baseUrl: options.baseUrl,
      timeoutMs: options.timeoutMs,
    };
  }

  async generate(request: ImageRequest): Promise<GeneratedImage> {
    const body = {
      prompt: buildImagePrompt(request),
      negative_prompt: NEGATIVE_PROMPT,
      seed: request.seed ?? -1,
      width: this.options.size.width,
      height: this.options.size.height,
      steps: this.options.steps ?? 25,
      cfg_scale: 7,
      batch_size: 1,
      n_iter: 1,
      ...(this.options.model ? { override_settings: { sd_model_checkpoint: this.options.model } } : {}),
    };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.apiKey) headers.authorization = `Basic ${Buffer.from(this.options.apiKey).toString('base64')}`;
    const json = await callProvider(this.context, request.signal, async (signal) => {
      const response = await fetchChecked(`${this.options.baseUrl.replace(/\/+$/, '')}/sdapi/v1/txt2img`, { method: 'POST', headers, body: JSON.stringify(body), signal });
      return (await response.json()) as unknown;
    });
    const parsed = answerSchema.safeParse(json);
    if (!parsed.success) throw new ProviderError(`${describeCall(this.context)}: the answer holds no image`, 'transient', this.name);
    const data = new Uint8Array(Buffer.from(parsed.data.images[0]!.replace(/^data:image\/\w+;base64,/, ''), 'base64'));
    const type = detectImageType(data);
    if (!type) throw new ProviderError(`${describeCall(this.context)}: the image is not PNG, JPEG or WebP`, 'permanent', this.name);
    return { data, ...type, placeholder: false, model: this.options.model ?? 'stable-diffusion' };
  }
}
