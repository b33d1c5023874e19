/**
 * The video's sound: the narration (voice only, as `narration.mp3` holds it), delayed behind a
 * title card when there is one, with the spoken title, and a music bed looped or cut to the
 * video's length, faded in and out, and ducked under the voice by `sidechaincompress` (the voice is
 * the sidechain). Pure planning and ffmpeg argument builders; {@link MediaRepository.mixSoundtrack}
 * runs them and normalises the result to the narration's loudness target.
 *
 * How the ducking is aimed: the sidechain is the voice raised by {@link SIDECHAIN_GAIN_DB} and held
 * by a limiter, so that while anyone speaks it sits near {@link SIDECHAIN_SPEECH_LEVEL_DB} whatever
 * the syllable, and pauses (digital silence, or a synthesizer's noise far below speech) stay far
 * under the threshold. With ratio r, a compressor takes (level − threshold) · (1 − 1/r) dB off
 * above its threshold, so the threshold is put where that equals the ducking asked for.
 */

import { fileUrl, filterGraphToWavArgs } from './ffmpeg-args.js';


/** How loud the music is and how far it steps back while the voice speaks. */
export interface MusicLevels {
  /** Music loudness relative to the narration's, dB (LU): what is heard in pauses. Default −14. */
  volumeDb: number;
  /** How much further the music drops while the voice speaks, dB. Default 12. */
  duckingDb: number;
}

/** Defaults of {@link MusicLevels}: music 14 dB under the voice in pauses, 26 dB under it while speaking. */
export const DEFAULT_MUSIC_LEVELS: Readonly<MusicLevels> = { volumeDb: -14, duckingDb: 12 };

/** Allowed ranges, dB. */
export const MUSIC_VOLUME_RANGE_DB = { min: -40, max: 0 } as const;
export const MUSIC_DUCKING_RANGE_DB = { min: 0, max: 30 } as const;

/** Gain put on the voice before the limiter that makes the sidechain, dB. */
export const SIDECHAIN_GAIN_DB = 24;
/** Limiter ceiling of the sidechain, linear (−6 dBFS). */
const SIDECHAIN_LIMIT = 0.5;
/** RMS level of the limited sidechain while someone speaks, dBFS (measured on espeak-ng and neural voices at −16 LUFS). */
export const SIDECHAIN_SPEECH_LEVEL_DB = -9;
/** Compression ratio of the ducking (sidechaincompress allows 1–20). */
export const DUCKING_RATIO = 20;
/** Attack and release of the ducking, ms: quick to step back, about half a second to return. */
export const DUCKING_ATTACK_MS = 20;
export const DUCKING_RELEASE_MS = 400;

/**
 * The `sidechaincompress` threshold (linear, as the filter takes it) that takes about `duckingDb`
 * off the music while the voice speaks; 1 (never compress) for 0 dB.
 * @throws RangeError outside {@link MUSIC_DUCKING_RANGE_DB}.
 */
export function duckingThreshold(duckingDb: number): number {
  if (!(duckingDb >= MUSIC_DUCKING_RANGE_DB.min && duckingDb <= MUSIC_DUCKING_RANGE_DB.max)) {
    throw new RangeError(`ducking must be ${MUSIC_DUCKING_RANGE_DB.min}–${MUSIC_DUCKING_RANGE_DB.max} dB, got ${duckingDb}`);
  }
  if (duckingDb === 0) return 1;
  const thresholdDb = SIDECHAIN_SPEECH_LEVEL_DB - duckingDb / (1 - 1 / DUCKING_RATIO);
  // The filter's lowest threshold is 2^-10 (−60.2 dBFS).
  return Math.max(0.000976563, 10 ** (thresholdDb / 20));
}

/**
 * The gain to put on the music, dB, so that it sits `volumeDb` relative to the narration:
 * narration loudness + volumeDb − the music's measured loudness (all LUFS). A music file that
 * measured no loudness (silence) gets 0.
 */
export function musicGainDb(narrationLufs: number, musicLufs: number, volumeDb: number): number {
  if (!Number.isFinite(musicLufs)) return 0;
  return Math.round((narrationLufs + volumeDb - musicLufs) * 100) / 100;
}

/** Fade-in and fade-out of the music for a track of `durationMs`, ms: 1.5 s and 3 s, at most a quarter of the track each. */
export function musicFades(durationMs: number): { inMs: number; outMs: number } {
  const quarter = Math.max(0, durationMs / 4);
  return { inMs: Math.round(Math.min(1500, quarter)), outMs: Math.round(Math.min(3000, quarter)) };
}

export interface SoundtrackArgsOptions {
  /** The narration (voice only). */
  narrationFile: string;
  /** The narration starts this late in the soundtrack, ms (the title card before it); 0 for none. */
  narrationStartMs: number;
  /** The spoken title, placed at `titleSpeechStartMs`. */
  titleSpeechFile?: string;
  titleSpeechStartMs?: number;
  /** Any audio file ffmpeg reads; looped (or cut) to `durationMs`. Omitted → voice only. */
  musicFile?: string;
  /** Gain put on the music before the ducking, dB ({@link musicGainDb}). */
  musicGainDb?: number;
  /** How far the music drops under the voice, dB ({@link duckingThreshold}). */
  duckingDb?: number;
  /** Length of the soundtrack, ms (the video's). */
  durationMs: number;
  /** Output sample rate, Hz. */
  sampleRate: number;
  /** A WAV (PCM 16-bit, stereo) to write; normalise it afterwards. */
  outFile: string;
}

/**
 * One ffmpeg run that writes the soundtrack as a stereo 16-bit WAV of exactly
 * `round(durationMs × sampleRate / 1000)` samples:
 * - voice: the narration resampled, delayed by `narrationStartMs` (exactly, in samples), with the
 *   spoken title mixed in at its place, padded with silence to the end;
 * - music (when given): read in an endless loop (`-stream_loop -1`), cut to the length, `volume`
 *   by `musicGainDb`, faded in and out ({@link musicFades}), then `sidechaincompress`ed with the
 *   limited voice as the sidechain ({@link duckingThreshold});
 * - the two summed without normalisation (`amix normalize=0`), so the voice keeps its level.
 */
export function buildSoundtrackArgs(options: SoundtrackArgsOptions): string[] {
  const { sampleRate } = options;
  if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 192000) throw new Error(`invalid sample rate ${sampleRate}`);
  if (!(options.durationMs > 0)) throw new RangeError(`soundtrack length must be > 0 ms, got ${options.durationMs}`);
  if (!(options.narrationStartMs >= 0)) throw new RangeError(`narrationStartMs must be >= 0, got ${options.narrationStartMs}`);
  const samples = (ms: number) => Math.round((ms * sampleRate) / 1000);
  const total = samples(options.durationMs);
  const format = `aresample=${sampleRate},aformat=sample_fmts=fltp:channel_layouts=stereo`;

  const inputs: string[] = ['-i', fileUrl(options.narrationFile)];
  const chains: string[] = [];
  const delay = (ms: number) => (samples(ms) > 0 ? `,adelay=delays=${samples(ms)}S:all=1` : '');
  chains.push(`[0:a]${format},asetpts=N/SR/TB${delay(options.narrationStartMs)}[narration]`);
  let voice = 'narration';
  let next = 1;
  if (options.titleSpeechFile) {
    inputs.push('-i', fileUrl(options.titleSpeechFile));
    chains.push(`[${next}:a]${format},asetpts=N/SR/TB${delay(options.titleSpeechStartMs ?? 0)}[title]`);
    chains.push(`[title][narration]amix=inputs=2:normalize=0:duration=longest[voiced]`);
    voice = 'voiced';
    next++;
  }
  chains.push(`[${voice}]apad=whole_len=${total},atrim=end_sample=${total}[voice]`);

  if (!options.musicFile) {
    chains.push('[voice]anull[out]');
  } else {
    inputs.push('-stream_loop', '-1', '-i', fileUrl(options.musicFile));
    const gain = options.musicGainDb ?? 0;
    if (!Number.isFinite(gain)) throw new RangeError(`music gain must be finite, got ${gain}`);
    const threshold = duckingThreshold(options.duckingDb ?? DEFAULT_MUSIC_LEVELS.duckingDb);
    const fades = musicFades(options.durationMs);
    const seconds = (ms: number) => (Math.round(ms) / 1000).toFixed(3);
    const music = [
      format,
      'asetpts=N/SR/TB',
      `atrim=end_sample=${total}`,
      `volume=${gain.toFixed(2)}dB`,
      ...(fades.inMs > 0 ? [`afade=t=in:st=0:d=${seconds(fades.inMs)}`] : []),
      ...(fades.outMs > 0 ? [`afade=t=out:st=${seconds(options.durationMs - fades.outMs)}:d=${seconds(fades.outMs)}`] : []),
    ];
    chains.push(`[${next}:a]${music.join(',')}[music]`);
    chains.push('[voice]asplit=2[speech][key]');
    chains.push(`[key]volume=${SIDECHAIN_GAIN_DB}dB,alimiter=limit=${SIDECHAIN_LIMIT}:attack=2:release=60:level=false[sidechain]`);
    chains.push(
      `[music][sidechain]sidechaincompress=threshold=${threshold.toPrecision(4)}:ratio=${DUCKING_RATIO}` +
        `:attack=${DUCKING_ATTACK_MS}:release=${DUCKING_RELEASE_MS}:knee=2:detection=rms[ducked]`,
    );
    chains.push('[speech][ducked]amix=inputs=2:normalize=0:duration=first[out]');
  }

  return filterGraphToWavArgs(inputs, chains, { sampleRate, channels: 2, outFile: options.outFile });
}

/**
 * Probes a file for an audio stream (ffprobe): its codec, container and decoded duration. Read
 * with {@link parseAudioProbe}. Used to accept a music upload by its content, not its name.
 */
export function buildAudioProbeArgs(file: string): string[] {
  return [
    '-v',
    'error',
    '-show_entries',
    'format=format_name,duration:stream=codec_type,codec_name,sample_rate,channels',
    '-of',
    'json',
    fileUrl(file),
  ];
}

/** Largest music file taken, bytes (about 5 minutes of 44.1 kHz stereo WAV). */
export const MAX_MUSIC_BYTES = 50 * 1024 * 1024;
/** Shortest music file taken, ms (it is looped to the video's length). */
export const MIN_MUSIC_MS = 1000;

/** Audio containers accepted for music, by ffprobe's `format_name`, and the file extension each is stored under. */
export const MUSIC_FORMATS = { mp3: 'mp3', wav: 'wav', ogg: 'ogg', m4a: 'm4a' } as const;
export type MusicFormat = keyof typeof MUSIC_FORMATS;

/** What {@link parseAudioProbe} found. */
export interface AudioProbe {
  /** `mp3`, `wav`, `ogg` or `m4a`; undefined for any other container. */
  format: MusicFormat | undefined;
  /** ffprobe's container name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`. */
  container: string;
  /** First audio stream's codec (`mp3`, `aac`, `vorbis`, `opus`, `pcm_s16le` …), undefined when there is none. */
  codec: string | undefined;
  /** Streams that are video (pictures: cover art counts). */
  videoStreams: number;
  /** Container duration, ms (NaN when unknown). */
  durationMs: number;
}

/** Reads the JSON of {@link buildAudioProbeArgs}. @throws Error when it is not ffprobe's JSON. */
export function parseAudioProbe(stdout: string): AudioProbe {
  const json = JSON.parse(stdout) as {
    format?: { format_name?: string; duration?: string };
    streams?: { codec_type?: string; codec_name?: string }[];
  };
  const container = json.format?.format_name ?? '';
  const names = container.split(',');
  const streams = json.streams ?? [];
  const audio = streams.find((s) => s.codec_type === 'audio');
  let format: MusicFormat | undefined;
  if (names.includes('mp3')) format = 'mp3';
  else if (names.includes('wav')) format = 'wav';
  else if (names.includes('ogg')) format = 'ogg';
  else if (names.includes('m4a') || names.includes('mov')) format = 'm4a';
  return {
    format,
    container,
    codec: audio?.codec_name,
    videoStreams: streams.filter((s) => s.codec_type === 'video' && s.codec_name !== 'mjpeg' && s.codec_name !== 'png').length,
    durationMs: Number(json.format?.duration) * 1000,
  };
}
