import { Injectable } from '@nestjs/common';
import { ApiError } from '../shared/api-error.js';
import { ProviderError } from '../providers/provider-error.js';
import { ProviderRegistry } from '../providers/registry.js';
import type { SynthesizedSpeech } from '../providers/types.js';
import { ProviderChoiceService } from './provider-choice.service.js';

/** Greeting per language for a preview with no text; English otherwise. */
const GREETINGS: Record<string, string> = {
  vi: 'Xin chào, đây là giọng đọc cho câu chuyện của bạn.',
  en: 'Hello, this is the voice that will tell your story.',
  fr: 'Bonjour, voici la voix qui racontera votre histoire.',
  de: 'Hallo, diese Stimme erzählt deine Geschichte.',
  es: 'Hola, esta es la voz que contará tu historia.',
};

/** A short sample of one voice of one provider, for choosing a voice. */
@Injectable()
export class VoicePreviewService {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly choices: ProviderChoiceService,
  ) {}

  /**
   * Speaks `text` (or a greeting in the voice's language) with the voice, through the provider's
   * limits but with no fallback.
   * @throws ApiError 422 `invalid-provider-choice` for an unknown voice or a provider without a
   * key; 502 `provider-failed` when the provider fails (its message, never a key).
   */
  async preview(provider: string, voice: string, text?: string): Promise<SynthesizedSpeech> {
    const spec = (await this.choices.check({ speech: `${provider}:${voice}` })).speech!;
    const voices = await this.choices.voices(provider);
    const language = voices.find((v) => v.id === voice)?.language.split('-')[0]?.replace('*', 'en') || 'en';
    try {
      return await this.registry.speechSynthesizer(spec, { fallback: false }).synthesize({
        text: text?.trim() || GREETINGS[language] || GREETINGS.en!,
        language,
        voice,
        signal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      if (error instanceof ProviderError) throw new ApiError(502, 'provider-failed', error.message);
      throw error;
    }
  }
}
