import { createOpenAI } from '@ai-sdk/openai';
import { experimental_generateSpeech as generateSpeech, type SpeechModel } from 'ai';
import { callProvider, describeCall, openAiProviderSettings, type ProviderCallContext } from '../provider-call.js';
import { ProviderError } from '../provider-error.js';
import type { SpeechRequest, SpeechSynthesizer, SynthesizedSpeech } from '../types.js';

export interface OpenAiCompatibleSpeechSynthesizerOptions {
  /** API root including `/v1`. */
  baseUrl: string;
  /** Bearer token; leave out for keyless local servers. */
  apiKey?: string;
  model: string;
  /** Voice used when the request names none, e.g. `alloy`. */
  voice: string;
  /** Deadline for one call, ms. */
  timeoutMs: number;
  /** Characters per call (from configuration); default and most {@link OPENAI_SPEECH_MAX_INPUT_CHARS}. */
  maxInputChars?: number;
}

const NAME = 'openai-compatible';

/** OpenAI's documented limit for `input` of `/v1/audio/speech`, in characters. */
export const OPENAI_SPEECH_MAX_INPUT_CHARS = 4096;

/**
 * Narrates one audio chunk with any server that speaks OpenAI's `/v1/audio/speech` (OpenAI,
 * Kokoro-FastAPI, LocalAI, …) through the AI SDK, asking for MP3.
 *
 * The answer's format is read from its bytes: servers that ignore `response_format` and send WAV,
 * Ogg, FLAC or AAC are reported as what they sent, so the file gets the right extension. Text
 * longer than {@link maxInputChars} (counted in UTF-16 code units, which never undercounts) is
 * refused before any call.
 */
export class OpenAiCompatibleSpeechSynthesizer implements SpeechSynthesizer {
  readonly name = NAME;
  readonly maxInputChars: number;
  private readonly model: SpeechModel;
  private readonly context: ProviderCallContext;

  constructor(private readonly options: OpenAiCompatibleSpeechSynthesizerOptions) {
    this.maxInputChars = options.maxInputChars ?? OPENAI_SPEECH_MAX_INPUT_CHARS;
    this.model = createOpenAI(openAiProviderSettings(options)).speech(options.model);
    this.context = {
      provider: NAME,
      capability: 'speech synthesizer',
      model: options.model,
      baseUrl: options.baseUrl,
      timeoutMs: options.timeoutMs,
    };
  }

  async synthesize(request: SpeechRequest): Promise<SynthesizedSpeech> {
    if (request.text.trim() === '') {
      throw new ProviderError(`${describeCall(this.context)}: the text to speak is empty`, 'permanent', NAME);
    }
    if (request.text.length > this.maxInputChars) {
      throw new ProviderError(
        `${describeCall(this.context)}: the text has ${request.text.length} characters, ` +
          `more than the ${this.maxInputChars} one call accepts`,
        'permanent',
        NAME,
      );
    }
    const voice = request.voice?.trim() || this.options.voice;
    const result = await callProvider(this.context, request.signal, (signal) =>
      generateSpeech({ model: this.model, text: request.text, voice, outputFormat: 'mp3', maxRetries: 0, abortSignal: signal }),
    );
    const data = result.audio.uint8Array;
    const format = detectAudioType(data) ?? { mediaType: 'audio/mpeg', extension: 'mp3' };
    return { data, ...format, voice, model: this.options.model };
  }
}

/**
 * WAV, MP3, Ogg, FLAC or ADTS AAC from the first bytes (magic numbers); undefined when unknown.
 * An MPEG frame header (`0xFFE…`) is MP3 when its layer bits are not `00` (which marks ADTS AAC).
 */
export function detectAudioType(data: Uint8Array): Pick<SynthesizedSpeech, 'mediaType' | 'extension'> | undefined {
  const starts = (text: string, offset = 0) => [...text].every((char, i) => data[offset + i] === char.charCodeAt(0));
  if (starts('RIFF') && starts('WAVE', 8)) return { mediaType: 'audio/wav', extension: 'wav' };
  if (starts('ID3')) return { mediaType: 'audio/mpeg', extension: 'mp3' };
  if (starts('OggS')) return { mediaType: 'audio/ogg', extension: 'ogg' };
  if (starts('fLaC')) return { mediaType: 'audio/flac', extension: 'flac' };
  if (data.length >= 2 && data[0] === 0xff && (data[1]! & 0xe0) === 0xe0) {
    return (data[1]! & 0x06) === 0 ? { mediaType: 'audio/aac', extension: 'aac' } : { mediaType: 'audio/mpeg', extension: 'mp3' };
  }
  return undefined;
}
