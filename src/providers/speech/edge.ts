import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { EdgeTTS } from 'node-edge-tts';
import { makeScratchDir } from '../../shared/scratch.js';
import { callProvider, describeCall, type ProviderCallContext } from '../provider-call.js';
import { ProviderError } from '../provider-error.js';
import type { SpeechRequest, SpeechSynthesizer, SynthesizedSpeech } from '../types.js';
import { EDGE_VOICES, voiceSpeaks } from '../voices.js';
import { checkSpeechText } from './speech-input.js';

/** What the Edge client library offers: node-edge-tts's `EdgeTTS` (or a test's subclass of it). */
export interface EdgeClient {
  ttsPromise(text: string, audioPath: string): Promise<unknown>;
}

/** Options node-edge-tts's constructor takes. */
export interface EdgeClientOptions {
  voice: string;
  lang: string;
  outputFormat: string;
  saveSubtitles: boolean;
  timeout: number;
}

export interface EdgeSpeechOptions {
  /** Voice when the request names none, e.g. `vi-VN-HoaiMyNeural`; by the request's language when absent. */
  voice?: string;
  timeoutMs: number;
  /** Characters per call (from configuration; default {@link EDGE_MAX_INPUT_CHARS}). */
  maxInputChars?: number;
  /** Makes the client; node-edge-tts by default. Tests pass a subclass that talks to a local server. */
  client?: (options: EdgeClientOptions) => EdgeClient;
}

/**
 * Characters per Edge call by default: 3,000. The read-aloud service cuts a message at about
 * 64 KiB of SSML; shorter calls also fail less on a flaky connection.
 */
export const EDGE_MAX_INPUT_CHARS = 3000;

/** Edge's 24 kHz mono MP3 at 48 kb/s, the quality the read-aloud service serves to the browser. */
const OUTPUT_FORMAT = 'audio-24khz-48kbitrate-mono-mp3';

/**
 * Narrates a chunk with the Microsoft Edge read-aloud neural voices (free, no key) through the
 * MIT-licensed `node-edge-tts` client, which speaks the service's WebSocket protocol. The voice's
 * locale (`vi-VN` of `vi-VN-HoaiMyNeural`) is the SSML language. Word boundaries the service sends
 * become {@link SynthesizedSpeech.words}.
 *
 * Errors: a timeout, a refused or dropped connection and an answer without audio are transient;
 * the client reports them as plain errors or strings, mapped here to ProviderErrors.
 */
export class EdgeSpeechSynthesizer implements SpeechSynthesizer {
  readonly name = 'edge';
  readonly maxInputChars: number;
  private readonly context: ProviderCallContext;
  private readonly client: (options: EdgeClientOptions) => EdgeClient;

  constructor(private readonly options: EdgeSpeechOptions) {
    this.maxInputChars = options.maxInputChars ?? EDGE_MAX_INPUT_CHARS;
    this.client = options.client ?? ((clientOptions) => new EdgeTTS(clientOptions));
    this.context = {
      provider: 'edge',
      capability: 'speech synthesizer',
      model: 'edge-read-aloud',
      baseUrl: 'wss://speech.platform.bing.com',
      timeoutMs: options.timeoutMs,
    };
  }

  async synthesize(request: SpeechRequest): Promise<SynthesizedSpeech> {
    checkSpeechText(request.text, this.maxInputChars, this.context);
    const voice = request.voice?.trim() || this.options.voice || edgeVoiceFor(request.language);
    if (!voice) {
      throw new ProviderError(`${describeCall(this.context)}: no Edge voice is known for language "${request.language}"; name one (GET /voices?provider=edge)`, 'permanent', this.name);
    }
    const lang = /^[a-z]{2,3}-[A-Z]{2}/.exec(voice)?.[0] ?? request.language;
    const dir = await makeScratchDir('edge-');
    const file = path.join(dir, 'clip.mp3');
    try {
      await callProvider(this.context, request.signal, async (signal) => {
        const client = this.client({ voice, lang, outputFormat: OUTPUT_FORMAT, saveSubtitles: true, timeout: this.options.timeoutMs });
        const aborted = new Promise<never>((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
        try {
          await Promise.race([client.ttsPromise(request.text, file), aborted]);
        } catch (error) {
          if (signal.aborted) throw error;
          throw new ProviderError(`${describeCall(this.context)}: ${typeof error === 'string' ? error : (error as Error).message}`, 'transient', this.name, {
            cause: error,
          });
        }
      });
      const data = new Uint8Array(await readFile(file));
      if (data.length === 0) throw new ProviderError(`${describeCall(this.context)}: the service sent no audio for voice ${voice}`, 'transient', this.name);
      const words = await readWords(`${file}.json`);
      return { data, mediaType: 'audio/mpeg', extension: 'mp3', voice, model: 'edge-read-aloud', words };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** The first bundled Edge voice that speaks `language` (ISO 639-1), or undefined. */
export function edgeVoiceFor(language: string): string | undefined {
  return EDGE_VOICES.find((voice) => voiceSpeaks(voice.language, language))?.id;
}

/** The client's word-boundary file (`[{part, start, end}]`, ms) as word timings; undefined when absent. */
async function readWords(file: string): Promise<SynthesizedSpeech['words']> {
  try {
    const cues = JSON.parse(await readFile(file, 'utf8')) as { part: string; start: number; end: number }[];
    return cues.map((cue) => ({ text: cue.part.trim(), startMs: cue.start, endMs: cue.end })).filter((word) => word.text !== '');
  } catch {
    return undefined;
  }
}
