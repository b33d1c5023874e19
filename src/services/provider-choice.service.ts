import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { StoryProviders } from '../db/schema.js';
import { ApiError, type FieldError } from '../shared/api-error.js';
import { type Capability, CAPABILITIES, formatChoice, KNOWN_MODELS, parseChoice, PROVIDER_NAMES } from '../shared/provider-names.js';
import { bundledVoiceIds, ProviderRegistry } from '../providers/registry.js';
import { EDGE_VOICES, ELEVENLABS_VOICES, espeakVoices, GEMINI_VOICES, OPENAI_VOICES, type VoiceInfo, voiceSpeaks } from '../providers/voices.js';

/** One provider as `GET /providers` lists it. */
export interface ProviderInfoDto {
  name: string;
  /** False for a hosted provider with no API key configured (choosing it answers 422). */
  configured: boolean;
  /** True for the server's default of this capability. */
  default: boolean;
  /** Known models, the configured default first (any model the vendor serves is accepted). */
  models?: string[];
}

/** ElevenLabs voice ids (premade and cloned voices alike) are 20 letters and digits. */
const ELEVENLABS_VOICE_ID = /^[A-Za-z0-9]{20}$/;

/**
 * Checks per-story provider choices before anything is stored or queued, and describes the
 * providers and voices for clients (`GET /providers`, `GET /voices`).
 */
@Injectable()
export class ProviderChoiceService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: ProviderRegistry,
  ) {}

  /**
   * Normalises `{ writer?, images?, speech? }` (each `provider[:model][:voice]`) and checks that
   * each can work: a known provider, an API key configured for it, a voice it has (that speaks
   * `language` when the story's language is given). `audioVoice` (autoMode.audioVoice) is checked
   * against the story's speech provider the same way.
   * @throws ApiError 422 `invalid-provider-choice` naming each field and its valid values.
   */
  async check(choices: Partial<Record<Capability, string>> | undefined, options: { language?: string; audioVoice?: string; field?: string } = {}): Promise<StoryProviders> {
    const prefix = options.field ?? 'providers';
    const errors: FieldError[] = [];
    const out: StoryProviders = {};
    for (const capability of CAPABILITIES) {
      const spec = choices?.[capability]?.trim();
      if (!spec) continue;
      const field = `${prefix}.${capability}`;
      const choice = parseChoice(capability, spec, bundledVoiceIds);
      const names = PROVIDER_NAMES[capability];
      if (!choice || !names.includes(choice.provider)) {
        errors.push({ field, message: `unknown provider "${choice?.provider ?? spec}"; valid: ${names.join(', ')}` });
        continue;
      }
      if (!this.configured(choice.provider)) {
        const configured = names.filter((name) => this.configured(name));
        errors.push({ field, message: `${choice.provider} has no API key configured on this server; valid: ${configured.join(', ')}` });
        continue;
      }
      if (capability === 'speech' && choice.voice) {
        const problem = await this.voiceProblem(choice.provider, choice.voice, options.language);
        if (problem) {
          errors.push({ field, message: problem });
          continue;
        }
      }
      out[capability] = formatChoice(choice);
    }
    if (options.audioVoice?.trim() && !errors.some((e) => e.field === `${prefix}.speech`)) {
      const speech = parseChoice('speech', out.speech ?? this.config.providers.speechSynthesizer, bundledVoiceIds);
      const problem = speech && !speech.voice ? await this.voiceProblem(speech.provider, options.audioVoice.trim(), options.language) : undefined;
      if (problem) errors.push({ field: 'autoMode.audioVoice', message: problem });
    }
    if (errors.length) {
      throw new ApiError(422, 'invalid-provider-choice', `Provider choice cannot work: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, errors);
    }
    return out;
  }

  /** True when the provider can be called: keyless, or with at least one API key configured. */
  configured(provider: string): boolean {
    return this.registry.keysOf(provider).length > 0;
  }

  /** Every provider per capability, with whether it is configured, the default, and known models. */
  describe(): Record<'writers' | 'images' | 'speech', ProviderInfoDto[]> {
    const list = (capability: Capability, defaultSpec: string) => {
      const defaultProvider = parseChoice(capability, defaultSpec)?.provider;
      return PROVIDER_NAMES[capability].map((name) => {
        const models = KNOWN_MODELS[`${capability}.${name}`];
        return { name, configured: this.configured(name), default: name === defaultProvider, ...(models ? { models: [...models] } : {}) };
      });
    };
    const p = this.config.providers;
    return { writers: list('writer', p.storyWriter), images: list('images', p.imageGenerator), speech: list('speech', p.speechSynthesizer) };
  }

  /**
   * Voices of one provider or of every speech provider, optionally only those that speak
   * `language` (ISO 639-1). Bundled lists for Edge, ElevenLabs, Gemini and OpenAI; espeak-ng's
   * own list from `espeak-ng --voices`.
   */
  async voices(provider?: string, language?: string): Promise<VoiceInfo[]> {
    const providers = provider ? [provider] : [...PROVIDER_NAMES.speech];
    const all = (await Promise.all(providers.map((name) => this.voicesOf(name)))).flat();
    return language ? all.filter((voice) => voiceSpeaks(voice.language, language)) : all;
  }

  private async voicesOf(provider: string): Promise<VoiceInfo[]> {
    switch (provider) {
      case 'edge':
        return [...EDGE_VOICES];
      case 'elevenlabs':
        return [...ELEVENLABS_VOICES];
      case 'gemini':
        return [...GEMINI_VOICES];
      case 'openai-compatible':
        return [...OPENAI_VOICES];
      case 'espeak-ng':
        return espeakVoices(this.config.binaries.espeakNg);
      default:
        return [];
    }
  }

  /** Why `voice` cannot be used with `provider` for `language`, or undefined when it can. */
  private async voiceProblem(provider: string, voice: string, language: string | undefined): Promise<string | undefined> {
    // Servers behind openai-compatible (Kokoro, LocalAI) have voices of their own: not checked.
    if (provider === 'openai-compatible') return undefined;
    if (provider === 'elevenlabs' && ELEVENLABS_VOICE_ID.test(voice)) return undefined;
    const voices = await this.voicesOf(provider);
    if (provider === 'espeak-ng' && voices.length === 0) return undefined; // espeak-ng not installed here: the worker's preflight says so
    const base = provider === 'espeak-ng' ? voice.split('+')[0]!.toLowerCase() : voice;
    const found = voices.find((v) => (provider === 'espeak-ng' ? v.id.toLowerCase() === base : v.id === base));
    const speaking = language ? voices.filter((v) => voiceSpeaks(v.language, language)) : voices;
    const sample = speaking.slice(0, 12).map((v) => v.id).join(', ') + (speaking.length > 12 ? ', …' : '');
    if (!found) return `${provider} has no voice "${voice}"; valid${language ? ` for ${language}` : ''}: ${sample || 'none'} (GET /voices?provider=${provider})`;
    if (language && !voiceSpeaks(found.language, language)) return `${provider} voice "${voice}" speaks ${found.language}, not ${language}; valid for ${language}: ${sample || 'none'}`;
    return undefined;
  }
}
