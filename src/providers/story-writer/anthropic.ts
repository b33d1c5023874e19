import { createAnthropic } from '@ai-sdk/anthropic';
import type { KeyedModelOptions } from './gemini.js';
import { LanguageModelStoryWriter } from './language-model-writer.js';

/** Anthropic's API root (`/messages` lives under it). */
export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com/v1';

/**
 * Writes a story with a Claude model (`POST {baseUrl}/messages`, key in `x-api-key`,
 * `anthropic-version` header) through the AI SDK. Claude has no JSON mode switch; the prompt asks
 * for JSON and the answer is parsed leniently.
 */
export class AnthropicStoryWriter extends LanguageModelStoryWriter {
  constructor(options: KeyedModelOptions) {
    const anthropic = createAnthropic({ baseURL: options.baseUrl.replace(/\/+$/, ''), apiKey: options.apiKey });
    super({
      name: 'anthropic',
      model: anthropic(options.model),
      modelId: options.model,
      baseUrl: options.baseUrl,
      timeoutMs: options.timeoutMs,
      jsonMode: false,
    });
  }
}
