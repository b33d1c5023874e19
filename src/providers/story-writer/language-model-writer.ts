import {
  APICallError,
  defaultSettingsMiddleware,
  generateText,
  wrapLanguageModel,
  type LanguageModel,
  type ModelMessage,
} from 'ai';
import { z } from 'zod';
import { callProvider, describeCall, serverMessage, type ProviderCallContext } from '../provider-call.js';
import { ProviderError } from '../provider-error.js';
import type { StoryStyle } from '../../shared/story-style.js';
import type { StoryWriteRequest, StoryWriter, WrittenStory } from '../types.js';

export interface LanguageModelStoryWriterOptions {
  /** Provider name recorded with the story and in errors, e.g. `gemini`. */
  name: string;
  model: LanguageModel;
  /** Model id, for metadata and messages. */
  modelId: string;
  /** API root, for messages only (never holds the key). */
  baseUrl: string;
  /** Deadline for one call, ms. */
  timeoutMs: number;
  /**
   * Ask the server for JSON mode (`responseFormat: json`). Servers that reject it with a 400 naming
   * `response_format` (LM Studio accepts only `json_schema` or `text`) are asked again without it,
   * and this writer stops sending it. Default true.
   */
  jsonMode?: boolean;
}

/**
 * How many times one {@link LanguageModelStoryWriter.write} asks the model again after an
 * answer that does not fit {@link storyAnswerSchema}: 2 re-asks, so at most 3 asks in all. Models
 * that slip out of the format usually fix it when told what was wrong; one that fails 3 times in a
 * row will keep failing, and every ask costs a full story's worth of tokens.
 */
export const STORY_SCHEMA_REASKS = 2;

/**
 * Writes a story with any AI SDK language model (OpenAI chat or responses, Gemini, Anthropic,
 * OpenAI-compatible servers). The model is asked for one JSON object
 * `{ title, story, imagePrompts, visualDescription }`. The answer is parsed here, not by the
 * server: plain JSON, JSON in a ```json fence, or one JSON object inside prose (and after a
 * `<think>` block) are all accepted, then checked with {@link storyAnswerSchema}.
 *
 * An answer that is not the expected JSON is shown back to the model with what was wrong, and the
 * model is asked again, up to {@link STORY_SCHEMA_REASKS} times within the same `write` call. Each
 * ask is one HTTP call with its own deadline (`timeoutMs`) under the caller's signal, so one
 * `write` takes at most (1 + STORY_SCHEMA_REASKS) × `timeoutMs`.
 *
 * Failures are {@link ProviderError}s: a refusal (refusal field, content filter, an apology with no
 * JSON) is permanent at once, with no re-ask; an answer cut off at the token limit (finish reason
 * `length`) is transient (the job tries again; a shorter story is never kept); an answer that
 * still does not fit after every ask is permanent; 5xx, 429, timeouts, connection errors and an
 * unreadable response body are transient; other 4xx are permanent. The SDK never retries
 * (`maxRetries: 0`): the job queue does.
 */
export class LanguageModelStoryWriter implements StoryWriter {
  readonly name: string;
  private readonly plainModel: LanguageModel;
  private readonly jsonModel: LanguageModel;
  private jsonMode: boolean;
  private readonly context: ProviderCallContext;

  constructor(private readonly options: LanguageModelStoryWriterOptions) {
    this.name = options.name;
    this.plainModel = options.model;
    this.jsonModel = wrapLanguageModel({
      model: options.model as Parameters<typeof wrapLanguageModel>[0]['model'],
      middleware: defaultSettingsMiddleware({ settings: { responseFormat: { type: 'json' } } }),
    });
    this.jsonMode = options.jsonMode ?? true;
    this.context = {
      provider: options.name,
      capability: 'story writer',
      model: options.modelId,
      baseUrl: options.baseUrl,
      timeoutMs: options.timeoutMs,
    };
  }

  async write(request: StoryWriteRequest): Promise<WrittenStory> {
    const { system, prompt } = buildStoryPrompt(request);
    const messages: ModelMessage[] = [{ role: 'user', content: prompt }];
    const problems: string[] = [];
    for (let asks = 1; ; asks++) {
      const result = await this.ask(system, messages, request.signal);
      if (result.finishReason === 'content-filter') {
        throw new ProviderError(
          `${describeCall(this.context)}: the model refused to write the story` +
            (result.text.trim() ? `: ${shorten(result.text.trim(), 300)}` : ' (content filter)'),
          'permanent',
          this.name,
        );
      }
      if (result.finishReason === 'length') {
        throw new ProviderError(
          `${describeCall(this.context)}: the answer was cut off at the model's output token limit ` +
            '(finish reason length); trying again, or choose a shorter length or a model with a larger output limit',
          'transient',
          this.name,
        );
      }
      const answer = parseStoryAnswer(result.text);
      if (answer.ok) {
        return {
          title: answer.value.title,
          content: answer.value.story,
          imagePrompts: answer.value.imagePrompts,
          visualDescription: answer.value.visualDescription,
          model: result.response.modelId || this.options.modelId,
        };
      }
      if (answer.refused) throw new ProviderError(`${describeCall(this.context)}: ${answer.problem}`, 'permanent', this.name);
      problems.push(answer.problem);
      if (asks > STORY_SCHEMA_REASKS) {
        const distinct = [...new Set(problems)];
        const what = distinct.length === 1 ? distinct[0] : problems.map((problem, i) => `ask ${i + 1}: ${problem}`).join('; ');
        throw new ProviderError(
          `${describeCall(this.context)}: the model could not answer in the expected JSON schema after ${asks} asks: ${what}`,
          'permanent',
          this.name,
        );
      }
      if (result.text.trim() !== '') messages.push({ role: 'assistant', content: result.text });
      messages.push({ role: 'user', content: reaskPrompt(answer.problem, false) });
    }
  }

  /** One call under the call's deadline; drops JSON mode for good when the server rejects it. */
  private ask(system: string, messages: ModelMessage[], callerSignal: AbortSignal | undefined) {
    return callProvider(this.context, callerSignal, async (signal) => {
      const ask = (model: LanguageModel) => generateText({ model, system, messages, maxRetries: 0, abortSignal: signal });
      if (!this.jsonMode) return ask(this.plainModel);
      try {
        return await ask(this.jsonModel);
      } catch (error) {
        if (!rejectsJsonMode(error)) throw error;
        this.jsonMode = false;
        return ask(this.plainModel);
      }
    });
  }
}

/** The user message that asks again after an answer that does not fit the schema. */
export function reaskPrompt(problem: string, truncated: boolean): string {
  return [
    `Your previous answer cannot be used: ${problem}.`,
    truncated ? 'It was cut off at the token limit: write a shorter story so that the whole JSON object fits.' : '',
    'Answer again with ONLY one JSON object, with no markdown fences and no text before or after it:',
    ANSWER_SHAPE,
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/** True for a 400 that blames `response_format`: the server does not do JSON mode. */
function rejectsJsonMode(error: unknown): boolean {
  return APICallError.isInstance(error) && error.statusCode === 400 && /response_format/i.test(serverMessage(error));
}

/** How the answer must look, as told to the model. */
const ANSWER_SHAPE = '{"title": string, "story": string, "imagePrompts": string[], "visualDescription": string}';

/**
 * The JSON object the model must return. `image_prompts` / `visual_description` are accepted for
 * `imagePrompts` / `visualDescription`; a missing or non-text visual description is left out
 * (the pictures then carry only the story's style), one longer than 1,000 characters is cut.
 */
export const storyAnswerSchema = z.preprocess(
  (value) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const record = value as Record<string, unknown>;
      const out = { ...record };
      if (out.imagePrompts === undefined && out.image_prompts !== undefined) out.imagePrompts = out.image_prompts;
      if (out.visualDescription === undefined && out.visual_description !== undefined) out.visualDescription = out.visual_description;
      if (out.visualDescription !== undefined && typeof out.visualDescription !== 'string') delete out.visualDescription;
      return out;
    }
    return value;
  },
  z.object({
    title: z.string().trim().min(1, 'title must not be empty'),
    story: z.string().trim().min(1, 'story must not be empty'),
    imagePrompts: z.array(z.string()).transform((prompts) => prompts.map((p) => p.trim()).filter((p) => p !== '')),
    visualDescription: z
      .string()
      .optional()
      .transform((text) => (text?.trim() ? text.trim().slice(0, 1000) : undefined)),
  }),
);

export type StoryAnswer = z.infer<typeof storyAnswerSchema>;

/**
 * `refused`: the model declined to write the story (asking again will not help); otherwise the
 * answer is not the expected JSON and the model may fix it when asked again.
 */
export type ParsedStoryAnswer = { ok: true; value: StoryAnswer } | { ok: false; problem: string; refused: boolean };

/**
 * Finds the JSON object in a model's answer and checks it against {@link storyAnswerSchema}.
 * Accepts plain JSON, a fenced block (```json … ``` or ``` … ```), or one object inside prose; a
 * leading `<think>…</think>` block (reasoning models on Ollama, LM Studio) is skipped. An answer
 * with no JSON that reads like an apology is reported as a refusal.
 *
 * @param truncated the server stopped at its token limit (`finish_reason: "length"`).
 */
export function parseStoryAnswer(text: string, truncated = false): ParsedStoryAnswer {
  const cleaned = text.replace(/<think>[\s\S]*?<\/think>/gi, '').trim();
  const cutOff = truncated ? ' (the answer was cut off at the token limit)' : '';
  if (cleaned === '') {
    return { ok: false, problem: `the model's answer is not the expected JSON: the answer is empty${cutOff}`, refused: false };
  }
  const found = findJsonObject(cleaned);
  if (found === undefined) {
    if (looksLikeRefusal(cleaned)) {
      return { ok: false, problem: `the model refused to write the story: ${shorten(cleaned, 300)}`, refused: true };
    }
    return {
      ok: false,
      problem: `the model's answer is not the expected JSON: no JSON object found in "${shorten(cleaned, 200)}"${cutOff}`,
      refused: false,
    };
  }
  const parsed = storyAnswerSchema.safeParse(found);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
      .join('; ');
    return { ok: false, problem: `the model's answer is not the expected JSON: ${issues}${cutOff}`, refused: false };
  }
  return { ok: true, value: parsed.data };
}

/** The first JSON object in `text`: the whole text, a fenced block, or a balanced `{…}` span. */
function findJsonObject(text: string): unknown {
  const candidates: string[] = [text];
  for (const match of text.matchAll(/```[a-zA-Z0-9_-]*[ \t]*\r?\n?([\s\S]*?)```/g)) candidates.push(match[1]!);
  for (const candidate of candidates) {
    const value = tryParseObject(candidate.trim());
    if (value !== undefined) return value;
  }
  for (let start = text.indexOf('{'); start !== -1; start = text.indexOf('{', start + 1)) {
    const end = matchingBrace(text, start);
    if (end === -1) continue;
    const value = tryParseObject(text.slice(start, end + 1));
    if (value !== undefined) return value;
  }
  return undefined;
}

function tryParseObject(text: string): unknown {
  if (!text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Index of the `}` closing the `{` at `start`, skipping braces inside strings; -1 when none. */
function matchingBrace(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '{') depth++;
    else if (char === '}' && --depth === 0) return i;
  }
  return -1;
}

const REFUSAL =
  /\b(I(?:'m| am) sorry|I apologi[sz]e|I can(?:'|’)?t|I cannot|I(?:'m| am) (?:unable|not able)|I won(?:'|’)t|I will not|I must decline|(?:cannot|can't|unable to) (?:help|assist|comply|fulfil|fulfill|write|create))\b/i;

function looksLikeRefusal(text: string): boolean {
  return REFUSAL.test(text.slice(0, 400));
}

// ---------------------------------------------------------------------------------------------
// Prompt

const LENGTHS: Record<string, string> = {
  short: 'short: about 300 to 500 words',
  medium: 'medium: about 800 to 1,200 words',
  long: 'long: about 1,500 to 2,500 words',
};

/** English name of an ISO 639 code ("vi" → "Vietnamese"), or the code itself when unknown. */
export function languageName(code: string): string {
  try {
    const name = new Intl.DisplayNames(['en'], { type: 'language' }).of(code);
    return name && name.toLowerCase() !== code.toLowerCase() ? name : code;
  } catch {
    return code;
  }
}

/**
 * The system and user messages for one story. The user message has fixed markers around the
 * source text (`--- SOURCE TEXT START ---` / `--- SOURCE TEXT END ---`) and the line
 * `one image prompt per about N words`, which the test server reads to build its default answer.
 */
export function buildStoryPrompt(request: StoryWriteRequest): { system: string; prompt: string } {
  const language = `${languageName(request.language)} (${request.language})`;
  const per = request.wordPerChunkImage;
  const system = [
    'You are an experienced storyteller and editor. You rewrite a source text into a finished story',
    'that will be narrated aloud and illustrated, one picture per part.',
    '',
    'Answer with ONLY one JSON object, with no markdown fences and no text before or after it:',
    ANSWER_SHAPE,
    `- "title": the story's title, in ${language}.`,
    `- "story": the whole story in ${language}, plain text for reading aloud (no markdown, no headings),` +
      ' paragraphs separated by a blank line ("\\n\\n").',
    `- "imagePrompts": one image prompt per about ${per} words of the story, in story order; each describes` +
      ' the scene of its part of the story for an illustrator (characters, setting, action, light), in English,' +
      ' keeping characters looking the same from picture to picture, with no text or lettering in the picture.',
    '- "visualDescription": in English, at most 80 words: how the main characters look (age, hair, clothes,' +
      ' colours), the setting, and one art style for every picture (e.g. "soft watercolour, warm light").' +
      ' Every image prompt is sent together with it so that the pictures look alike.',
  ].join('\n');

  const lines: string[] = [`Write the story in ${language}.`];
  const style = describeStyle(request.style);
  if (style.length > 0) lines.push('', 'Style:', ...style.map((line) => `- ${line}`));
  if (request.customPrompt?.trim()) lines.push('', 'Instructions from the author:', request.customPrompt.trim());
  lines.push(
    '',
    `Image prompts: one image prompt per about ${per} words of the story, in order.`,
    'Keep the plot, characters and meaning of the source; you may reword, restructure, and fill gaps.',
    request.fileName ? `The source file is named "${request.fileName}".` : '',
    '',
    '--- SOURCE TEXT START ---',
    request.sourceText,
    '--- SOURCE TEXT END ---',
    '',
    'Return only the JSON object {"title", "story", "imagePrompts", "visualDescription"}.',
  );
  return { system, prompt: lines.filter((line, i, all) => line !== '' || all[i - 1] !== '').join('\n') };
}

function describeStyle(style: StoryStyle): string[] {
  const out: string[] = [];
  if (style.genre?.trim()) out.push(`Genre: ${style.genre.trim()}`);
  if (style.tone?.trim()) out.push(`Tone: ${style.tone.trim()}`);
  if (style.length?.trim()) {
    const length = style.length.trim();
    out.push(`Length: ${LENGTHS[length.toLowerCase()] ?? length}`);
  }
  if (style.targetAudience?.trim()) out.push(`Target audience: ${style.targetAudience.trim()}`);
  return out;
}

function shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
