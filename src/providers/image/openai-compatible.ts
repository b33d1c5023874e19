import { createOpenAI } from '@ai-sdk/openai';
import { generateImage, type ImageModel } from 'ai';
import { callProvider, describeCall, openAiProviderSettings, type ProviderCallContext } from '../provider-call.js';
import { ProviderError } from '../provider-error.js';
import type { StoryStyle } from '../../shared/story-style.js';
import type { GeneratedImage, ImageGenerator, ImageRequest } from '../types.js';

export interface OpenAiCompatibleImageGeneratorOptions {
  /** API root including `/v1`. */
  baseUrl: string;
  /** Bearer token; leave out for keyless local servers. */
  apiKey?: string;
  model: string;
  /** `WIDTHxHEIGHT`, sent as `size`; the model decides which sizes it accepts. */
  size: `${number}x${number}`;
  /** Deadline for one call, ms. */
  timeoutMs: number;
}

const NAME = 'openai-compatible';

/**
 * Draws one illustration per chunk with any server that speaks OpenAI's `/v1/images/generations`
 * (OpenAI gpt-image / DALL·E, LocalAI, …) through the AI SDK. The image comes back as
 * `b64_json`; its type (PNG, JPEG, WebP) is read from the bytes, not trusted from the server.
 * Errors are {@link ProviderError}s sorted as in `provider-call.ts`; the SDK never retries.
 */
export class OpenAiCompatibleImageGenerator implements ImageGenerator {
  readonly name = NAME;
  private readonly model: ImageModel;
  private readonly context: ProviderCallContext;

  constructor(private readonly options: OpenAiCompatibleImageGeneratorOptions) {
    this.model = createOpenAI(openAiProviderSettings(options)).image(options.model);
    this.context = {
      provider: NAME,
      capability: 'image generator',
      model: options.model,
      baseUrl: options.baseUrl,
      timeoutMs: options.timeoutMs,
    };
  }

  async generate(request: ImageRequest): Promise<GeneratedImage> {
    const prompt = buildImagePrompt(request);
    const result = await callProvider(this.context, request.signal, (signal) =>
      generateImage({ model: this.model, prompt, size: this.options.size, n: 1, maxRetries: 0, abortSignal: signal }),
    );
    const data = result.image.uint8Array;
    const type = detectImageType(data);
    if (type === undefined) {
      throw new ProviderError(
        `${describeCall(this.context)}: the server's image is not PNG, JPEG or WebP ` +
          `(${data.length} bytes starting ${Buffer.from(data.subarray(0, 8)).toString('hex')})`,
        'permanent',
        NAME,
      );
    }
    return { data, ...type, placeholder: false, model: this.options.model };
  }
}

/**
 * The request's prompt, then the story's visual description (the same for every picture of the
 * story, so that characters and style stay alike), then a short style hint from the story's style.
 */
export function buildImagePrompt(request: Pick<ImageRequest, 'prompt' | 'text' | 'style' | 'visualDescription'>): string {
  const subject = request.prompt.trim() || request.text.trim();
  const visual = request.visualDescription?.trim();
  const hint = styleHint(request.style);
  return [subject, visual ? `Characters, setting and art style: ${visual}` : '', hint].filter(Boolean).join('\n\n');
}

function styleHint(style: StoryStyle): string {
  const parts: string[] = [];
  if (style.genre?.trim()) parts.push(`a ${style.genre.trim()} story`);
  if (style.targetAudience?.trim()) parts.push(`for ${style.targetAudience.trim()}`);
  const tone = style.tone?.trim() ? `, ${style.tone.trim()} mood` : '';
  const about = parts.length > 0 ? ` for ${parts.join(' ')}` : ' for a story';
  return `Style: storybook illustration${about}${tone}. No text, letters or captions in the image.`;
}

/** PNG, JPEG or WebP from the first bytes (magic numbers); undefined for anything else. */
export function detectImageType(data: Uint8Array): Pick<GeneratedImage, 'mediaType' | 'extension'> | undefined {
  const starts = (bytes: number[], offset = 0) => bytes.every((byte, i) => data[offset + i] === byte);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { mediaType: 'image/png', extension: 'png' };
  if (starts([0xff, 0xd8, 0xff])) return { mediaType: 'image/jpeg', extension: 'jpg' };
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) {
    return { mediaType: 'image/webp', extension: 'webp' };
  }
  return undefined;
}
