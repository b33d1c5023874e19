import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type ProviderLimit } from '../config/config.js';
import { type Capability, formatChoice, parseChoice, type ProviderChoice } from '../shared/provider-names.js';
import { type ChainMember, runChain } from './fallback-chain.js';
import { Automatic1111ImageGenerator } from './image/automatic1111.js';
import { CardImageGenerator } from './image/card.js';
import { ComfyUiImageGenerator } from './image/comfyui.js';
import { GeminiImageGenerator } from './image/gemini.js';
import { OpenAiCompatibleImageGenerator } from './image/openai-compatible.js';
import { observeProviderCall, noteRetryAfter } from './provider-calls.js';
import { CARD_RENDERER, type CardRenderer, PROVIDER_LIMIT_STORE, type ProviderLimitStore } from './ports.js';
import { ProviderGuard } from './provider-guard.js';
import { EdgeSpeechSynthesizer } from './speech/edge.js';
import { ElevenLabsSynthesizer } from './speech/elevenlabs.js';
import { EspeakNgSynthesizer } from './speech/espeak-ng.js';
import { GeminiSpeechSynthesizer } from './speech/gemini.js';
import { OpenAiCompatibleSpeechSynthesizer } from './speech/openai-compatible.js';
import { AnthropicStoryWriter } from './story-writer/anthropic.js';
import { GeminiStoryWriter } from './story-writer/gemini.js';
import { OpenAiCompatibleStoryWriter } from './story-writer/openai-compatible.js';
import { OpenAiStoryWriter } from './story-writer/openai.js';
import { SourceStoryWriter } from './story-writer/source.js';
import type { ImageGenerator, ImageRequest, SpeechRequest, SpeechSynthesizer, StoryWriteRequest, StoryWriter } from './types.js';
import { GEMINI_VOICES } from './voices.js';

export { IMAGE_GENERATORS, SPEECH_SYNTHESIZERS, STORY_WRITERS } from '../shared/provider-names.js';

/** Story pictures are 16:9. */
const IMAGE_SIZE = { width: 1280, height: 720 };

/** Builds one provider instance for a choice and one API key (undefined for keyless providers). */
type Factory<T> = (choice: ProviderChoice, key: string | undefined, limit: ProviderLimit & { timeoutMs: number }) => T;

/** Voices a speech choice's second part may name instead of a model. */
export function bundledVoiceIds(provider: string): readonly string[] {
  return provider === 'gemini' ? GEMINI_VOICES.map((voice) => voice.id) : [];
}

/**
 * Maps choices (`provider[:model][:voice]`, per story or from the configuration) to
 * implementations. What a step gets is a chain: the chosen provider, then the capability's
 * fallbacks (WRITER_FALLBACK …), each run within its limits (concurrency, requests per minute,
 * API keys in turn, see ProviderGuard) across every worker process. Steps never name a vendor.
 */
@Injectable()
export class ProviderRegistry {
  private readonly cache = new Map<string, unknown>();
  private readonly guards = new Map<string, ProviderGuard>();
  private readonly instances = new Map<string, unknown>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CARD_RENDERER) private readonly media: CardRenderer,
    @Inject(PROVIDER_LIMIT_STORE) private readonly limits: ProviderLimitStore,
  ) {}

  private readonly writers: Record<string, Factory<StoryWriter>> = {
    source: () => new SourceStoryWriter(),
    'openai-compatible': (c, key, l) =>
      new OpenAiCompatibleStoryWriter({ baseUrl: this.config.providers.openai.baseUrl, apiKey: key, model: c.model ?? this.config.providers.openai.chatModel, timeoutMs: l.timeoutMs }),
    openai: (c, key, l) =>
      new OpenAiStoryWriter({ baseUrl: this.config.providers.openai.baseUrl, apiKey: key ?? '', model: c.model ?? this.config.providers.openai.chatModel, timeoutMs: l.timeoutMs }),
    gemini: (c, key, l) =>
      new GeminiStoryWriter({ baseUrl: this.config.providers.gemini.baseUrl, apiKey: key ?? '', model: c.model ?? this.config.providers.gemini.chatModel, timeoutMs: l.timeoutMs }),
    anthropic: (c, key, l) =>
      new AnthropicStoryWriter({ baseUrl: this.config.providers.anthropic.baseUrl, apiKey: key ?? '', model: c.model ?? this.config.providers.anthropic.model, timeoutMs: l.timeoutMs }),
  };

  private readonly imageGenerators: Record<string, Factory<ImageGenerator>> = {
    card: (_c, _key, l) => new CardImageGenerator(this.media, { fontFile: this.config.cardFontFile, timeoutMs: l.timeoutMs }),
    'openai-compatible': (c, key, l) => {
      const { openai } = this.config.providers;
      return new OpenAiCompatibleImageGenerator({ baseUrl: openai.baseUrl, apiKey: key, model: c.model ?? openai.imageModel, size: openai.imageSize, timeoutMs: l.timeoutMs });
    },
    gemini: (c, key, l) =>
      new GeminiImageGenerator({ baseUrl: this.config.providers.gemini.baseUrl, apiKey: key ?? '', model: c.model ?? this.config.providers.gemini.imageModel, timeoutMs: l.timeoutMs }),
    automatic1111: (c, key, l) => {
      const a = this.config.providers.automatic1111;
      return new Automatic1111ImageGenerator({ baseUrl: a.baseUrl, apiKey: key, model: c.model ?? a.model, size: IMAGE_SIZE, timeoutMs: l.timeoutMs });
    },
    comfyui: (c, key, l) => {
      const comfy = this.config.providers.comfyui;
      return new ComfyUiImageGenerator({ baseUrl: comfy.baseUrl, apiKey: key, workflowFile: comfy.workflowFile, model: c.model ?? comfy.model, size: IMAGE_SIZE, timeoutMs: l.timeoutMs });
    },
  };

  private readonly speechSynthesizers: Record<string, Factory<SpeechSynthesizer>> = {
    'espeak-ng': (_c, _key, l) => new EspeakNgSynthesizer({ binary: this.config.binaries.espeakNg, timeoutMs: l.timeoutMs }),
    'openai-compatible': (c, key, l) => {
      const { openai } = this.config.providers;
      return new OpenAiCompatibleSpeechSynthesizer({ baseUrl: openai.baseUrl, apiKey: key, model: c.model ?? openai.speechModel, voice: openai.speechVoice, timeoutMs: l.timeoutMs, maxInputChars: l.maxInputChars });
    },
    gemini: (c, key, l) => {
      const g = this.config.providers.gemini;
      return new GeminiSpeechSynthesizer({ baseUrl: g.baseUrl, apiKey: key ?? '', model: c.model ?? g.speechModel, voice: g.speechVoice, timeoutMs: l.timeoutMs, maxInputChars: l.maxInputChars });
    },
    edge: (_c, _key, l) => new EdgeSpeechSynthesizer({ voice: this.config.providers.edge.voice, timeoutMs: l.timeoutMs, maxInputChars: l.maxInputChars }),
    elevenlabs: (c, key, l) => {
      const e = this.config.providers.elevenlabs;
      return new ElevenLabsSynthesizer({ baseUrl: e.baseUrl, apiKey: key ?? '', model: c.model ?? e.model, voice: e.voice, timeoutMs: l.timeoutMs, maxInputChars: l.maxInputChars });
    },
  };

  /**
   * The API keys configured for a provider: several for hosted vendors (comma-separated in
   * GEMINI_API_KEY …), `[undefined]` for keyless providers, `[]` for a hosted one with none.
   */
  keysOf(provider: string): (string | undefined)[] {
    const p = this.config.providers;
    const keyed: Record<string, string[]> = {
      gemini: p.gemini.apiKeys,
      anthropic: p.anthropic.apiKeys,
      openai: p.openai.apiKeys,
      elevenlabs: p.elevenlabs.apiKeys,
    };
    if (provider in keyed) return keyed[provider]!;
    if (provider === 'openai-compatible') return p.openai.apiKeys.length ? p.openai.apiKeys : [undefined];
    if (provider === 'automatic1111') return [p.automatic1111.auth];
    if (provider === 'comfyui') return [p.comfyui.apiKey];
    return [undefined];
  }

  /** The limits of a provider for a capability: `capability.provider` over `provider`, with the default timeout. */
  limitOf(capability: Capability, provider: string): ProviderLimit & { timeoutMs: number } {
    const all = this.config.providers.limits;
    const merged = { ...all[provider], ...all[`${capability}.${provider}`] };
    return { ...merged, timeoutMs: merged.timeoutMs ?? this.config.providers.timeoutMs };
  }

  /** The story writer chain for a choice (default STORY_WRITER). @throws Error for an unknown provider. */
  storyWriter(spec: string = this.config.providers.storyWriter): StoryWriter & { chain: string[] } {
    return this.cached(
      'writer',
      spec,
      this.writers,
      (writer, request: StoryWriteRequest) => writer.write(request),
      (members) => ({
        name: members[0]!.name,
        chain: members.map((m) => m.name),
        write: async (request: StoryWriteRequest) => {
          const { result, provider } = await runChain(members, request, this.chainOptions(request.signal));
          return { ...result, provider };
        },
      }),
    );
  }

  /** The image generator chain for a choice (default IMAGE_GENERATOR). */
  imageGenerator(spec: string = this.config.providers.imageGenerator): ImageGenerator & { chain: string[] } {
    return this.cached(
      'images',
      spec,
      this.imageGenerators,
      (generator, request: ImageRequest) => generator.generate(request),
      (members) => ({
        name: members[0]!.name,
        chain: members.map((m) => m.name),
        generate: async (request: ImageRequest) => {
          const { result, provider } = await runChain(members, request, this.chainOptions(request.signal));
          return { ...result, provider };
        },
      }),
    );
  }

  /**
   * The speech synthesizer chain for a choice (default SPEECH_SYNTHESIZER). Its `maxInputChars`
   * is the smallest of the chain's, so every chunk fits whichever provider speaks it. The
   * request's voice goes to the chosen provider; a fallback uses its own configured voice.
   */
  speechSynthesizer(spec: string = this.config.providers.speechSynthesizer, options: { fallback?: boolean } = {}): SpeechSynthesizer & { chain: string[] } {
    return this.cached(
      'speech',
      spec,
      this.speechSynthesizers,
      (synthesizer, request: SpeechRequest) => synthesizer.synthesize(request),
      (members, instances) => ({
        name: members[0]!.name,
        chain: members.map((m) => m.name),
        maxInputChars: Math.min(...instances.map((s) => s.maxInputChars)),
        synthesize: async (request: SpeechRequest) => {
          const { result, provider } = await runChain(members, request, this.chainOptions(request.signal));
          return { ...result, provider };
        },
      }),
      options.fallback ?? true,
    );
  }

  private chainOptions(signal: AbortSignal | undefined) {
    return { limits: this.limits, fallbackAfterMs: this.config.providers.fallbackAfterMs, signal };
  }

  private cached<T, Req extends { signal?: AbortSignal; voice?: string }, Res, W>(
    capability: Capability,
    spec: string,
    factories: Record<string, Factory<T>>,
    call: (instance: T, request: Req) => Promise<Res>,
    build: (members: ChainMember<Req, Res>[], instances: T[]) => W,
    withFallback = true,
  ): W {
    const key = `${capability}|${spec}|${withFallback}`;
    if (this.cache.has(key)) return this.cache.get(key) as W;
    const specs = [spec, ...(withFallback ? this.config.providers.fallback[capability].filter((s) => s !== spec) : [])];
    const members: ChainMember<Req, Res>[] = [];
    const firsts: T[] = [];
    for (const memberSpec of specs) {
      const choice = parseChoice(capability, memberSpec, bundledVoiceIds);
      const factory = choice && factories[choice.provider];
      if (!choice || !factory) {
        throw new Error(`Unknown ${capability} provider "${memberSpec}"; valid names: ${Object.keys(factories).join(', ')}`);
      }
      const keys = this.keysOf(choice.provider);
      if (keys.length === 0) {
        // A hosted provider without a key cannot be called: left out of the chain (a choice
        // naming it is refused when the batch is made).
        if (memberSpec === spec && specs.length === 1) throw new Error(`${choice.provider} has no API key configured`);
        continue;
      }
      const limit = this.limitOf(capability, choice.provider);
      const scope = `${capability}.${choice.provider}`;
      const perKey = keys.map((apiKey, i) => this.instance(`${scope}|${formatChoice(choice)}|${i}`, () => factory(choice, apiKey, limit)));
      firsts.push(perKey[0]!);
      const guard = this.guard(scope, keys.length, limit);
      members.push({
        name: choice.provider,
        scope,
        run: (request: Req, isFirst: boolean) => {
          // A voice in the choice wins; the story's voice belongs to its chosen (first) provider only.
          const voice = choice.voice ?? (isFirst ? request.voice : undefined);
          const sent = capability === 'speech' ? { ...request, voice } : request;
          const info = { capability, provider: choice.provider, model: choice.model };
          return guard
            .run(request.signal, (keyIndex) => observeProviderCall(info, request.signal, () => call(perKey[keyIndex]!, sent)))
            .catch(noteRetryAfter);
        },
      });
    }
    if (members.length === 0) throw new Error(`No ${capability} provider of "${specs.join(', ')}" has an API key configured`);
    const built = build(members, firsts);
    this.cache.set(key, built);
    return built;
  }

  private instance<T>(key: string, make: () => T): T {
    if (!this.instances.has(key)) this.instances.set(key, make());
    return this.instances.get(key) as T;
  }

  private guard(scope: string, keyCount: number, limit: ProviderLimit & { timeoutMs: number }): ProviderGuard {
    if (!this.guards.has(scope)) this.guards.set(scope, new ProviderGuard(this.limits, scope, keyCount, limit));
    return this.guards.get(scope)!;
  }
}
