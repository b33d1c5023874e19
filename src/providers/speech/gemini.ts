import { pcmToWav } from '../../media/wav.js';
import { geminiCall, type GeminiAnswer, inlineDataOf } from '../gemini-rest.js';
import { callProvider, describeCall, type ProviderCallContext } from '../provider-call.js';
import { ProviderError } from '../provider-error.js';
import type { SpeechRequest, SpeechSynthesizer, SynthesizedSpeech } from '../types.js';
import { checkSpeechText } from './speech-input.js';

export interface GeminiSpeechOptions {
  /** API root, e.g. `https://generativelanguage.googleapis.com/v1beta`. */
  baseUrl: string;
  apiKey: string;
  /** A TTS model, e.g. `gemini-2.5-flash-preview-tts`. */
  model: string;
  /** Prebuilt voice when the request names none, e.g. `Kore`. */
  voice: string;
  /** Deadline for one call, ms. */
  timeoutMs: number;
  /** Largest text per call, characters (from configuration; default {@link GEMINI_TTS_MAX_INPUT_CHARS}). */
  maxInputChars?: number;
}

/**
 * Characters per Gemini TTS call by default: 4,000. The TTS models take 8,192 input tokens; 4,000
 * characters stay well inside that for every script, and keep one call under a minute of audio.
 */
export const GEMINI_TTS_MAX_INPUT_CHARS = 4000;

/** Gemini TTS's output rate when its mimeType does not say, Hz (documented as 24 kHz). */
export const GEMINI_TTS_SAMPLE_RATE = 24_000;

/**
 * Narrates a chunk with Gemini TTS: `generateContent` with `responseModalities: ["AUDIO"]` and a
 * prebuilt voice. The answer is raw signed 16-bit little-endian mono PCM (`audio/L16;codec=pcm;rate=24000`)
 * with no header; it is stored as a WAV file at the rate the mimeType states (24 kHz when absent).
 * Errors: see provider-call.ts; a safety stop is permanent, an answer without audio transient.
 */
export class GeminiSpeechSynthesizer implements SpeechSynthesizer {
  readonly name = 'gemini';
  readonly maxInputChars: number;
  private readonly context: ProviderCallContext;

  constructor(private readonly options: GeminiSpeechOptions) {
    this.maxInputChars = options.maxInputChars ?? GEMINI_TTS_MAX_INPUT_CHARS;
    this.context = { provider: 'gemini', capability: 'speech synthesizer', model: options.model, baseUrl: options.baseUrl, timeoutMs: options.timeoutMs };
  }

  async synthesize(request: SpeechRequest): Promise<SynthesizedSpeech> {
    checkSpeechText(request.text, this.maxInputChars, this.context);
    const voice = request.voice?.trim() || this.options.voice;
    const answer = await callProvider(this.context, request.signal, (signal) =>
      geminiCall<GeminiAnswer>(
        this.options,
        'generateContent',
        {
          contents: [{ role: 'user', parts: [{ text: request.text }] }],
          generationConfig: {
            responseModalities: ['AUDIO'],
            speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: voice } } },
          },
        },
        signal,
      ),
    );
    const audio = inlineDataOf(answer);
    if ('blocked' in audio) throw new ProviderError(`${describeCall(this.context)}: ${audio.blocked}`, 'permanent', this.name);
    if ('empty' in audio) throw new ProviderError(`${describeCall(this.context)}: the answer holds no audio`, 'transient', this.name);
    const rate = Number(/rate=(\d+)/i.exec(audio.mimeType)?.[1] ?? GEMINI_TTS_SAMPLE_RATE);
    if (!/^audio\/(L16|pcm)/i.test(audio.mimeType)) {
      throw new ProviderError(`${describeCall(this.context)}: unexpected audio type ${audio.mimeType} (expected audio/L16 PCM)`, 'permanent', this.name);
    }
    // An odd byte at the end is a cut sample: dropped rather than refused.
    const pcm = audio.data.length % 2 ? audio.data.subarray(0, audio.data.length - 1) : audio.data;
    return { data: pcmToWav(pcm, rate), mediaType: 'audio/wav', extension: 'wav', voice, model: this.options.model };
  }
}
