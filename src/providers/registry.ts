import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { MediaRepository } from '../repositories/media.repository.js';
import { CardImageGenerator } from './image/card.js';
import { OpenAiCompatibleImageGenerator } from './image/openai-compatible.js';
import { EspeakNgSynthesizer } from './speech/espeak-ng.js';
import { OpenAiCompatibleSpeechSynthesizer } from './speech/openai-compatible.js';
import { OpenAiCompatibleStoryWriter } from './story-writer/openai-compatible.js';
import { SourceStoryWriter } from './story-writer/source.js';
import type { ImageGenerator, SpeechSynthesizer, StoryWriter } from './types.js';

export const STORY_WRITERS = ['source', 'openai-compatible'] as const;
export const IMAGE_GENERATORS = ['card', 'openai-compatible'] as const;
export const SPEECH_SYNTHESIZERS = ['espeak-ng', 'openai-compatible'] as const;

type Factories<T> = Record<string, () => T>;

/**
 * Maps provider names to implementations, built once on first use from the configuration.
 * Steps ask for "the speech synthesizer for this story" and never name a vendor.
 */
@Injectable()
export class ProviderRegistry {
  private readonly cache = new Map<string, unknown>();
  private readonly writers: Factories<StoryWriter>;
  private readonly imageGenerators: Factories<ImageGenerator>;
  private readonly speechSynthesizers: Factories<SpeechSynthesizer>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig, media: MediaRepository) {
    const { openai, timeoutMs } = config.providers;
    const remote = { baseUrl: openai.baseUrl, apiKey: openai.apiKey, timeoutMs };
    this.writers = {
      source: () => new SourceStoryWriter(),
      'openai-compatible': () => new OpenAiCompatibleStoryWriter({ ...remote, model: openai.chatModel }),
    };
    this.imageGenerators = {
      card: () => new CardImageGenerator(media, { fontFile: config.cardFontFile, timeoutMs }),
      'openai-compatible': () =>
        new OpenAiCompatibleImageGenerator({ ...remote, model: openai.imageModel, size: openai.imageSize }),
    };
    this.speechSynthesizers = {
      'espeak-ng': () => new EspeakNgSynthesizer({ binary: config.binaries.espeakNg, timeoutMs }),
      'openai-compatible': () =>
        new OpenAiCompatibleSpeechSynthesizer({ ...remote, model: openai.speechModel, voice: openai.speechVoice }),
    };
  }

  /** @throws Error naming the valid writers when `name` is unknown. */
  storyWriter(name: string = this.config.providers.storyWriter): StoryWriter {
    return this.resolve('story writer', this.writers, name);
  }

  /** @throws Error naming the valid generators when `name` is unknown. */
  imageGenerator(name: string = this.config.providers.imageGenerator): ImageGenerator {
    return this.resolve('image generator', this.imageGenerators, name);
  }

  /** @throws Error naming the valid synthesizers when `name` is unknown. */
  speechSynthesizer(name: string = this.config.providers.speechSynthesizer): SpeechSynthesizer {
    return this.resolve('speech synthesizer', this.speechSynthesizers, name);
  }

  private resolve<T>(kind: string, factories: Factories<T>, name: string): T {
    const factory = factories[name];
    if (!factory) {
      throw new Error(`Unknown ${kind} "${name}"; valid names: ${Object.keys(factories).join(', ')}`);
    }
    const key = `${kind}:${name}`;
    if (!this.cache.has(key)) this.cache.set(key, factory());
    return this.cache.get(key) as T;
  }
}
