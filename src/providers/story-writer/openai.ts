import { createOpenAI } from '@ai-sdk/openai';
import type { KeyedModelOptions } from './gemini.js';
import { LanguageModelStoryWriter } from './language-model-writer.js';

/** OpenAI's API root. */
export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

/**
 * Writes a story with an OpenAI model through the Responses API (`POST {baseUrl}/responses`,
 * bearer key) via the AI SDK. For other servers that speak only chat completions use
 * `openai-compatible`.
 */
export class OpenAiStoryWriter extends LanguageModelStoryWriter {
  constructor(options: KeyedModelOptions) {
    const openai = createOpenAI({ baseURL: options.baseUrl.replace(/\/+$/, ''), apiKey: options.apiKey, name: 'openai' });
    super({ name: 'openai', model: openai.responses(options.model), modelId: options.model, baseUrl: options.baseUrl, timeoutMs: options.timeoutMs });
  }
}
