import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { DEFAULT_LOCAL_PROVIDER_TIMEOUT_MS, ProviderError } from '../provider-error.js';
import type { SpeechRequest, SpeechSynthesizer, SynthesizedSpeech } from '../types.js';
import { makeScratchDir } from '../../shared/scratch.js';

/**
 * ISO 639-1 code → espeak-ng voice, for the voices espeak-ng 1.51 (Debian 12) ships
 * (`espeak-ng --voices`). Where espeak-ng has several, the one most people expect:
 * en → en-us, fr → fr-fr, pt → pt (Portugal), vi → vi (Northern), zh → cmn (Mandarin), no → nb.
 */
export const ESPEAK_NG_LANGUAGE_VOICES: Readonly<Record<string, string>> = {
  af: 'af', am: 'am', an: 'an', ar: 'ar', as: 'as', az: 'az', ba: 'ba', be: 'be', bg: 'bg', bn: 'bn',
  bs: 'bs', ca: 'ca', cs: 'cs', cv: 'cv', cy: 'cy', da: 'da', de: 'de', el: 'el', en: 'en-us', eo: 'eo',
  es: 'es', et: 'et', eu: 'eu', fa: 'fa', fi: 'fi', fr: 'fr-fr', ga: 'ga', gd: 'gd', gn: 'gn', gu: 'gu',
  he: 'he', hi: 'hi', hr: 'hr', ht: 'ht', hu: 'hu', hy: 'hy', ia: 'ia', id: 'id', io: 'io', is: 'is',
  it: 'it', ja: 'ja', ka: 'ka', kk: 'kk', kl: 'kl', kn: 'kn', ko: 'ko', ku: 'ku', ky: 'ky', la: 'la',
  lb: 'lb', lt: 'lt', lv: 'lv', mi: 'mi', mk: 'mk', ml: 'ml', mr: 'mr', ms: 'ms', mt: 'mt', my: 'my',
  nb: 'nb', ne: 'ne', nl: 'nl', no: 'nb', om: 'om', or: 'or', pa: 'pa', pl: 'pl', pt: 'pt', qu: 'qu',
  ro: 'ro', ru: 'ru', sd: 'sd', si: 'si', sk: 'sk', sl: 'sl', sq: 'sq', sr: 'sr', sv: 'sv', sw: 'sw',
  ta: 'ta', te: 'te', th: 'th', tk: 'tk', tn: 'tn', tr: 'tr', tt: 'tt', ug: 'ug', uk: 'uk', ur: 'ur',
  uz: 'uz', vi: 'vi', zh: 'cmn',
};

/**
 * Regional and ISO 639-3 voices a language tag may name directly (`en-GB`, `pt-BR`, `vi-VN-x-south`,
 * `yue` …), lower case.
 */
const REGIONAL_VOICES: ReadonlySet<string> = new Set([
  'en-029', 'en-gb', 'en-gb-scotland', 'en-gb-x-gbclan', 'en-gb-x-gbcwmd', 'en-gb-x-rp', 'en-us', 'en-us-nyc',
  'es-419', 'fr-be', 'fr-ch', 'fr-fr', 'pt-br', 'vi-vn-x-central', 'vi-vn-x-south', 'cmn', 'cmn-latn-pinyin',
  'yue', 'hak', 'bpy', 'chr-us-qaaa-x-west', 'fa-latn', 'grc', 'haw', 'jbo', 'kok', 'lfn', 'ltg', 'nci', 'nog',
  'pap', 'quc', 'ru-lv', 'shn', 'smj', 'hyw',
]);

/** A voice name as espeak-ng takes it (`vi`, `en-us+f3`, `mb-fr1`), never an option. */
const VOICE_PATTERN = /^[A-Za-z0-9][\w+./-]*$/;

/**
 * The espeak-ng voice for a language tag (`vi`, `en`, `en-GB`, `pt_BR`), or undefined when
 * espeak-ng has none.
 */
export function espeakVoiceForLanguage(language: string): string | undefined {
  const tag = language.trim().toLowerCase().replace(/_/g, '-');
  if (REGIONAL_VOICES.has(tag)) return tag;
  if (Object.hasOwn(ESPEAK_NG_LANGUAGE_VOICES, tag)) return ESPEAK_NG_LANGUAGE_VOICES[tag];
  const primary = tag.split('-')[0] ?? '';
  if (Object.hasOwn(ESPEAK_NG_LANGUAGE_VOICES, primary)) return ESPEAK_NG_LANGUAGE_VOICES[primary];
  if (REGIONAL_VOICES.has(primary)) return primary;
  return undefined;
}

export interface EspeakNgSynthesizerOptions {
  /** The espeak-ng binary (a name on PATH or a path). */
  binary: string;
  /**
   * Deadline for one call, ms; the process is killed when it passes. Default
   * {@link DEFAULT_LOCAL_PROVIDER_TIMEOUT_MS} (the registry passes `PROVIDER_TIMEOUT_MS`).
   */
  timeoutMs?: number;
}

/**
 * The offline speech synthesizer: espeak-ng, voice by language, 22.05 kHz mono 16-bit WAV.
 * Text goes through a temporary UTF-8 file (`-b 1 -f`), never argv. Each call stops when the
 * caller's signal aborts (the abort is rethrown unchanged) or when `timeoutMs` passes (a transient
 * ProviderError).
 */
export class EspeakNgSynthesizer implements SpeechSynthesizer {
  readonly name = 'espeak-ng';
  /**
   * espeak-ng itself has no input limit; 5,000 characters (≈ 800 words, ≈ 5 minutes of speech)
   * keeps one clip and one failed call small. Audio chunks (60 words by default) stay far below it.
   */
  readonly maxInputChars = 5000;

  constructor(private readonly options: EspeakNgSynthesizerOptions) {}

  async synthesize(request: SpeechRequest): Promise<SynthesizedSpeech> {
    const voice = this.pickVoice(request);
    const text = request.text.normalize('NFC');
    if (text.trim() === '') {
      throw new ProviderError('espeak-ng: nothing to say (the text is empty)', 'permanent', this.name);
    }
    if (text.length > this.maxInputChars) {
      throw new ProviderError(
        `espeak-ng: the text has ${text.length} characters, more than the ${this.maxInputChars} one call takes`,
        'permanent',
        this.name,
      );
    }
    const dir = await makeScratchDir('espeak-');
    try {
      const textFile = path.join(dir, 'text.txt');
      const wavFile = path.join(dir, 'speech.wav');
      await writeFile(textFile, text, 'utf8');
      await this.run(['-v', voice, '-b', '1', '-w', wavFile, '-f', textFile], request.signal);
      const data = await readFile(wavFile);
      if (data.byteLength <= 44) {
        throw new ProviderError(`espeak-ng produced no audio for voice ${voice}`, 'permanent', this.name);
      }
      return {
        data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        mediaType: 'audio/wav',
        extension: 'wav',
        voice,
        model: 'espeak-ng',
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** An explicit voice wins; otherwise the voice for the language. */
  private pickVoice(request: SpeechRequest): string {
    const explicit = request.voice?.trim();
    if (explicit) {
      if (!VOICE_PATTERN.test(explicit)) {
        throw new ProviderError(`espeak-ng: ${JSON.stringify(explicit)} is not a voice name`, 'permanent', this.name);
      }
      return explicit;
    }
    const voice = espeakVoiceForLanguage(request.language);
    if (voice === undefined) {
      const available = Object.keys(ESPEAK_NG_LANGUAGE_VOICES).join(', ');
      throw new ProviderError(
        `espeak-ng has no voice for language ${JSON.stringify(request.language)}. Languages with a voice: ${available} ` +
          '(and regional tags such as en-GB, pt-BR, es-419, vi-VN-x-south). Set the story language to one of them, ' +
          'pass an espeak-ng voice name explicitly (see `espeak-ng --voices`), or choose another speech synthesizer ' +
          '(SPEECH_SYNTHESIZER=openai-compatible).',
        'permanent',
        this.name,
      );
    }
    return voice;
  }

  private run(args: string[], callerSignal?: AbortSignal): Promise<void> {
    const binary = this.options.binary;
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_LOCAL_PROVIDER_TIMEOUT_MS;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, deadline]) : deadline;
    return new Promise((resolve, reject) => {
      execFile(binary, args, { encoding: 'utf8', signal, windowsHide: true, maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) => {
        if (!error) {
          resolve();
          return;
        }
        const failure = error as NodeJS.ErrnoException & { code?: string | number; signal?: NodeJS.Signals | null };
        if (callerSignal?.aborted) {
          reject(failure);
          return;
        }
        if (deadline.aborted) {
          reject(
            new ProviderError(`espeak-ng: no audio within ${timeoutMs} ms with voice ${args[1]} (timed out)`, 'transient', this.name, {
              cause: error,
            }),
          );
          return;
        }
        if (failure.name === 'AbortError') {
          reject(failure);
          return;
        }
        if (failure.code === 'ENOENT') {
          reject(
            new ProviderError(
              `espeak-ng was not found at ${JSON.stringify(binary)}. Install the Debian package espeak-ng ` +
                '(apt-get install espeak-ng) or set ESPEAK_NG_PATH to the binary.',
              'permanent',
              this.name,
              { cause: error },
            ),
          );
          return;
        }
        const message = String(stderr ?? '').trim().split('\n').slice(-5).join('\n');
        const how = typeof failure.code === 'number' ? `exit code ${failure.code}` : `signal ${failure.signal ?? 'unknown'}`;
        // Killed by a signal may pass on a retry; a non-zero exit (unknown voice, bad input) will not.
        const kind = typeof failure.code === 'number' ? 'permanent' : 'transient';
        reject(
          new ProviderError(`espeak-ng failed (${how}) with voice ${args[1]}: ${message || '(no output)'}`, kind, this.name, {
            cause: error,
          }),
        );
      });
    });
  }
}
