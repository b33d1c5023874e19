import { geminiCall, type GeminiAnswer, inlineDataOf } from '../gemini-rest.js';
import { callProvider, describeCall, type ProviderCallContext } from '../provider-call.js';
import { ProviderError } from '../provider-error.js';
import type { GeneratedImage, ImageGenerator, ImageRequest } from '../types.js';
import { buildImagePrompt, detectImageType } from './openai-compatible.js';

export interface GeminiImageOptions {
  /** API root, e.g. `https://generativelanguage.googleapis.com/v1beta`. */
  baseUrl: string;
  apiKey: string;
  /** `imagen-4.0-generate-001` (Imagen, `:predict`) or a Gemini image model such as `gemini-2.5-flash-image` (`:generateContent`). */
  model: string;
  /** Deadline for one call, ms. */
  timeoutMs: number;
}

interface PredictAnswer {
  predictions?: { bytesBase64Encoded?: string; mimeType?: string; raiFilteredReason?: string }[];
}

/**
 * Draws a picture with Google's image models. An `imagen-*` model is called with
 * `POST models/{model}:predict` (`instances: [{prompt}]`, `parameters: {sampleCount: 1,
 * aspectRatio: "16:9"}`; the image is `predictions[0].bytesBase64Encoded`); any other model with
 * `generateContent` and `responseModalities: ["TEXT", "IMAGE"]` (the image is an `inlineData` part).
 * A picture withheld by the safety filter (no prediction, `raiFilteredReason`, a safety finish
 * reason) is a permanent error; other errors as in provider-call.ts.
 */
export class GeminiImageGenerator implements ImageGenerator {
  readonly name = 'gemini';
  private readonly context: ProviderCallContext;

  constructor(private readonly options: GeminiImageOptions) {
    this.context = { provider: 'gemini', capability: 'image generator', model: options.model, baseUrl: options.baseUrl, timeoutMs: options.timeoutMs };
  }

  async generate(request: ImageRequest): Promise<GeneratedImage> {
    const prompt = buildImagePrompt(request);
    const data = await callProvider(this.context, request.signal, (signal) =>
      this.options.model.startsWith('imagen') ? this.predict(prompt, signal) : this.generateContent(prompt, signal),
    );
    const type = detectImageType(data);
    if (!type) throw new ProviderError(`${describeCall(this.context)}: the image is not PNG, JPEG or WebP`, 'permanent', this.name);
    return { data, ...type, placeholder: false, model: this.options.model };
  }

  private async predict(prompt: string, signal: AbortSignal): Promise<Uint8Array> {
    const answer = await geminiCall<PredictAnswer>(
      this.options,
      'predict',
      { instances: [{ prompt }], parameters: { sampleCount: 1, aspectRatio: '16:9', personGeneration: 'allow_adult' } },
      signal,
    );
    const prediction = answer.predictions?.find((p) => p.bytesBase64Encoded);
    if (prediction?.bytesBase64Encoded) return new Uint8Array(Buffer.from(prediction.bytesBase64Encoded, 'base64'));
    const reason = answer.predictions?.find((p) => p.raiFilteredReason)?.raiFilteredReason;
    throw new ProviderError(
      `${describeCall(this.context)}: no image came back${reason ? `: ${reason}` : ' (the safety filter withheld it)'}; reword the image prompt`,
      'permanent',
      this.name,
    );
  }

  private async generateContent(prompt: string, signal: AbortSignal): Promise<Uint8Array> {
    const answer = await geminiCall<GeminiAnswer>(
      this.options,
      'generateContent',
      { contents: [{ role: 'user', parts: [{ text: prompt }] }], generationConfig: { responseModalities: ['TEXT', 'IMAGE'] } },
      signal,
    );
    const image = inlineDataOf(answer);
    if ('blocked' in image) throw new ProviderError(`${describeCall(this.context)}: ${image.blocked}; reword the image prompt`, 'permanent', this.name);
    if ('empty' in image) throw new ProviderError(`${describeCall(this.context)}: the answer holds no image`, 'transient', this.name);
    return image.data;
  }
}
