import { createOpenAI } from '@ai-sdk/openai';
import { openAiProviderSettings } from '../provider-call.js';
import { LanguageModelStoryWriter } from './language-model-writer.js';

export {
  buildStoryPrompt,
  languageName,
  parseStoryAnswer,
  reaskPrompt,
  STORY_SCHEMA_REASKS,
  storyAnswerSchema,
  type ParsedStoryAnswer,
  type StoryAnswer,
} from './language-model-writer.js';

export interface OpenAiCompatibleStoryWriterOptions {
  /** API root including `/v1`, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1` (Ollama). */
  baseUrl: string;
  /** Bearer token; leave out for keyless local servers. */
  apiKey?: string;
  model: string;
  /** Deadline for one call, ms. */
  timeoutMs: number;
  /** Ask for JSON mode (`response_format: {"type":"json_object"}`); dropped when the server rejects it. Default true. */
  jsonMode?: boolean;
}

/**
 * Writes a story with any server that speaks OpenAI's `/v1/chat/completions` (OpenAI, Ollama,
 * LM Studio, vLLM, llama.cpp server, OpenRouter …): a {@link LanguageModelStoryWriter} over the
 * AI SDK's OpenAI chat model.
 */
export class OpenAiCompatibleStoryWriter extends LanguageModelStoryWriter {
  constructor(options: OpenAiCompatibleStoryWriterOptions) {
    super({
      name: 'openai-compatible',
      model: createOpenAI(openAiProviderSettings(options)).chat(options.model),
      modelId: options.model,
      baseUrl: options.baseUrl,
      timeoutMs: options.timeoutMs,
      jsonMode: options.jsonMode,
    });
  }
}
