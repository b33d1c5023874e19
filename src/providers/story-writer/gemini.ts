import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { LanguageModelStoryWriter } from './language-model-writer.js';

/** Google's Generative Language API root (generateContent lives under it). */
export const GEMINI_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta';

export interface KeyedModelOptions {
  /** API root; the vendor's own by default, a local server in tests. */
  baseUrl: string;
  apiKey: string;
  model: string;
  /** Deadline for one call, ms. */
  timeoutMs: number;
}

/**
 * Writes a story with a Gemini model (`POST {baseUrl}/models/{model}:generateContent`, key in
 * `x-goog-api-key`) through the AI SDK, JSON answers asked with `responseMimeType: application/json`.
 */
export class GeminiStoryWriter extends LanguageModelStoryWriter {
  constructor(options: KeyedModelOptions) {
    const google = createGoogleGenerativeAI({ baseURL: options.baseUrl.replace(/\/+$/, ''), apiKey: options.apiKey });
    super({ name: 'gemini', model: google(options.model), modelId: options.model, baseUrl: options.baseUrl, timeoutMs: options.timeoutMs });
  }
}
