import { z } from 'zod';
import { callProvider, describeCall, fetchChecked, type ProviderCallContext } from '../provider-call.js';
import { ProviderError } from '../provider-error.js';
import type { SpeechRequest, SpeechSynthesizer, SynthesizedSpeech } from '../types.js';
import { checkSpeechText } from './speech-input.js';

export interface ElevenLabsOptions {
  /** API root, `https://api.elevenlabs.io`. */
  baseUrl: string;
  apiKey: string;
  /** e.g. `eleven_multilingual_v2`. */
  model: string;
  /** Voice id used when the request names none. */
  voice: string;
  timeoutMs: number;
  /** Characters per call (from configuration; default {@link ELEVENLABS_MAX_INPUT_CHARS}). */
  maxInputChars?: number;
}

/** Characters per ElevenLabs call by default: 5,000 (multilingual v2 takes 10,000; shorter calls fail less). */
export const ELEVENLABS_MAX_INPUT_CHARS = 5000;

const answerSchema = z.object({
  audio_base64: z.string().min(1),
  alignment: z
    .object({
      characters: z.array(z.string()),
      character_start_times_seconds: z.array(z.number()),
      character_end_times_seconds: z.array(z.number()),
    })
    .nullish(),
});

/**
 * Narrates a chunk with ElevenLabs: `POST {baseUrl}/v1/text-to-speech/{voice_id}/with-timestamps`
 * (`xi-api-key` header, `output_format=mp3_44100_128`), which answers the MP3 in base64 and the time
 * of every character; those become word timings ({@link SynthesizedSpeech.words}).
 * Errors as in provider-call.ts: a used-up quota (401 `quota_exceeded`) rests the key, 429
 * (`too_many_concurrent_requests`, `system_busy`) is transient, a 422 validation error permanent.
 */
export class ElevenLabsSynthesizer implements SpeechSynthesizer {
  readonly name = 'elevenlabs';
  readonly maxInputChars: number;
  private readonly context: ProviderCallContext;

  constructor(private readonly options: ElevenLabsOptions) {
    this.maxInputChars = options.maxInputChars ?? ELEVENLABS_MAX_INPUT_CHARS;
    this.context = { provider: 'elevenlabs', capability: 'speech synthesizer', model: options.model, baseUrl: options.baseUrl, timeoutMs: options.timeoutMs };
  }

  async synthesize(request: SpeechRequest): Promise<SynthesizedSpeech> {
    checkSpeechText(request.text, this.maxInputChars, this.context);
    const voice = request.voice?.trim() || this.options.voice;
    const url =
      `${this.options.baseUrl.replace(/\/+$/, '')}/v1/text-to-speech/${encodeURIComponent(voice)}/with-timestamps` +
      '?output_format=mp3_44100_128';
    const json = await callProvider(this.context, request.signal, async (signal) => {
      const response = await fetchChecked(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'xi-api-key': this.options.apiKey },
        body: JSON.stringify({ text: request.text, model_id: this.options.model, language_code: request.language }),
        signal,
      });
      return (await response.json()) as unknown;
    });
    const parsed = answerSchema.safeParse(json);
    if (!parsed.success) {
      throw new ProviderError(`${describeCall(this.context)}: the answer is not in the ElevenLabs format (no audio_base64)`, 'transient', this.name);
    }
    const data = new Uint8Array(Buffer.from(parsed.data.audio_base64, 'base64'));
    const words = parsed.data.alignment ? wordsFromCharacters(parsed.data.alignment) : undefined;
    return { data, mediaType: 'audio/mpeg', extension: 'mp3', voice, model: this.options.model, words };
  }
}

/** Groups ElevenLabs' per-character times into words (split at whitespace), ms. */
export function wordsFromCharacters(alignment: {
  characters: string[];
  character_start_times_seconds: number[];
  character_end_times_seconds: number[];
}): { text: string; startMs: number; endMs: number }[] {
  const words: { text: string; startMs: number; endMs: number }[] = [];
  let current: { text: string; startMs: number; endMs: number } | undefined;
  alignment.characters.forEach((char, i) => {
    if (/\s/.test(char)) {
      current = undefined;
      return;
    }
    const start = Math.round((alignment.character_start_times_seconds[i] ?? 0) * 1000);
    const end = Math.round((alignment.character_end_times_seconds[i] ?? 0) * 1000);
    if (!current) {
      current = { text: '', startMs: start, endMs: end };
      words.push(current);
    }
    current.text += char;
    current.endMs = end;
  });
  return words;
}
