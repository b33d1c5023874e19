import { Injectable } from '@nestjs/common';
import type { AudioChunk, Story } from '../../db/schema.js';
import { acceptProviderWords, estimateWordTimings } from '../../media/word-timings.js';
import type { ClipWordTimings, ProviderWordTiming } from '../../shared/word-timing.js';
import { ProviderRegistry } from '../../providers/registry.js';
import { MediaRepository } from '../../repositories/media.repository.js';
import { toDisplayText } from '../../text/speech-text.js';
import type { ChunkMaker, MadeChunk } from './chunk-maker.js';

/**
 * Makes an audio chunk's clip: synthesises its spoken text, and records the clip's decoded
 * duration (ms) and word timings.
 */
@Injectable()
export class AudioChunkMaker implements ChunkMaker<'audio'> {
  constructor(
    private readonly providers: ProviderRegistry,
    private readonly media: MediaRepository,
  ) {}

  async make(story: Story, chunk: AudioChunk, _total: number, signal?: AbortSignal): Promise<MadeChunk<'audio'>> {
    const synthesizer = this.providers.speechSynthesizer(story.providers.speech);
    const language = story.language ?? 'en';
    const speech = await synthesizer.synthesize({ text: chunk.spokenText, language, voice: story.autoMode.audioVoice, signal });
    const provider = speech.provider ?? synthesizer.name;
    return {
      data: speech.data,
      extension: speech.extension,
      provider,
      requestedProvider: synthesizer.name,
      metadata: { providers: { audio: { provider, model: speech.model, voice: speech.voice } } },
      values: async (staged, valuesSignal) => {
        // Read from the decoded stream: a clip that does not decode fails this chunk, not the merge.
        const durationMs = Math.round(await this.media.durationMs(staged, valuesSignal));
        const words = await this.wordTimings(toDisplayText(chunk.text), language, staged, durationMs, speech.words, valuesSignal);
        return { provider, model: speech.model, voice: speech.voice, durationMs, words };
      },
    };
  }

  /**
   * The clip's word timings: the provider's when it reported usable ones, else estimated from the
   * chunk's written text, the clip's duration and its measured silences.
   */
  private async wordTimings(
    text: string,
    language: string,
    clipFile: string,
    durationMs: number,
    provided: ProviderWordTiming[] | undefined,
    signal?: AbortSignal,
  ): Promise<ClipWordTimings> {
    const accepted = acceptProviderWords(provided, durationMs);
    if (accepted) return { source: 'provider', words: accepted };
    const silences = await this.media.silences(clipFile, durationMs, signal);
    return { source: 'estimate', words: estimateWordTimings(text, { language, durationMs, silences }) };
  }
}
