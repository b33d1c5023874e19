import type { LoudnessReading } from './ebur128.js';

/**
 * The JSON block ffmpeg's `loudnorm` filter prints to stderr with `print_format=json`, typed.
 * loudnorm prints every number as a string; "-inf" / "inf" (a silent input) become ±Infinity.
 */
export interface LoudnormMeasurement {
  /** Integrated loudness of the input, LUFS. */
  inputI: number;
  /** True peak of the input, dBTP. */
  inputTp: number;
  /** Loudness range of the input, LU. */
  inputLra: number;
  /** Gating threshold of the input, LUFS. */
  inputThresh: number;
  /** What loudnorm expects (measure pass) or measured (apply pass) at its output. */
  outputI: number;
  outputTp: number;
  outputLra: number;
  outputThresh: number;
  /** `linear` when one gain was applied, `dynamic` when loudnorm compressed. */
  normalizationType: 'linear' | 'dynamic';
  /** Offset gain for the second pass (`offset=`), LU. */
  targetOffset: number;
}

const FIELDS = {
  inputI: 'input_i',
  inputTp: 'input_tp',
  inputLra: 'input_lra',
  inputThresh: 'input_thresh',
  outputI: 'output_i',
  outputTp: 'output_tp',
  outputLra: 'output_lra',
  outputThresh: 'output_thresh',
  targetOffset: 'target_offset',
} as const;

function toNumber(raw: unknown, key: string): number {
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim().toLowerCase() : undefined;
  if (text === undefined) throw new Error(`loudnorm JSON: "${key}" is missing`);
  if (text === '-inf') return Number.NEGATIVE_INFINITY;
  if (text === 'inf' || text === '+inf') return Number.POSITIVE_INFINITY;
  const value = Number(text);
  if (text === '' || Number.isNaN(value)) throw new Error(`loudnorm JSON: "${key}" is not a number: ${JSON.stringify(raw)}`);
  return value;
}

/**
 * Finds the last loudnorm JSON block in ffmpeg's stderr and returns it typed.
 * @throws Error when stderr holds no such block (loudnorm did not run, or ran without
 * `print_format=json`, or ffmpeg was started with a log level below `info`).
 */
export function parseLoudnormJson(stderr: string): LoudnormMeasurement {
  const marker = stderr.lastIndexOf('[Parsed_loudnorm_');
  const searchFrom = marker >= 0 ? marker : 0;
  // The block: from the first "{" after the marker to the first "}" after it (it holds no nesting).
  const blockPattern = /\{[^{}]*"input_i"[^{}]*\}/g;
  blockPattern.lastIndex = searchFrom;
  let match: RegExpExecArray | null;
  let last: string | undefined;
  while ((match = blockPattern.exec(stderr)) !== null) last = match[0];
  if (last === undefined) {
    const tail = stderr.trim().split('\n').slice(-5).join('\n');
    throw new Error(
      'no loudnorm measurement in the ffmpeg output (expected a JSON block from loudnorm=…:print_format=json)' +
        (tail ? `; output ended with:\n${tail}` : '; the output was empty'),
    );
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(last) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`loudnorm JSON block does not parse: ${(error as Error).message}\n${last}`, { cause: error });
  }
  const normalizationType = String(json['normalization_type'] ?? '').trim().toLowerCase();
  if (normalizationType !== 'linear' && normalizationType !== 'dynamic') {
    throw new Error(`loudnorm JSON: unexpected normalization_type ${JSON.stringify(json['normalization_type'])}`);
  }
  const numbers = Object.fromEntries(
    Object.entries(FIELDS).map(([name, key]) => [name, toNumber(json[key], key)]),
  ) as Record<keyof typeof FIELDS, number>;
  return { ...numbers, normalizationType };
}

// ---------------------------------------------------------------------------------------------
// Planning the normalisation (pure decisions; the media repository runs them)
// ---------------------------------------------------------------------------------------------

export interface LoudnessTarget {
  /** Integrated loudness, LUFS. */
  lufs: number;
  /** True-peak ceiling, dBTP. */
  truePeakDb: number;
  /** Loudness range target given to loudnorm, LU. Default 11. */
  lra?: number;
}

/** How close to the target the written file must measure before we stop, LU. */
export const LOUDNESS_TOLERANCE_LU = 0.3;

/** At most this many encode passes (each followed by a measurement of the written file). */
export const MAX_ENCODE_PASSES = 4;

/**
 * How the narration is brought to its loudness target, from the measurement of the input:
 * - `gain`: one gain reaches the target and keeps the true peak under the ceiling.
 * - `gain-limiter`: otherwise (espeak-ng speech has a peak-to-loudness ratio near 20 dB; −16 LUFS
 *   at −1.5 dBTP allows 14.5): the gain, then an oversampled limiter at the ceiling; the limiter
 *   eats part of the gain, so the gain is corrected from what is measured.
 * - `loudnorm-single`: the input measured no loudness (silence): one loudnorm pass, nothing to aim.
 * The gain is measured against the written MP3 (libmp3lame at ≤ 160 kbit/s lowers espeak-ng speech
 * and some tones by about 0.5 LU) and aimed again when it is more than {@link LOUDNESS_TOLERANCE_LU} off.
 */
export type LoudnessPlan = { method: 'gain'; gainDb: number } | { method: 'gain-limiter'; gainDb: number } | { method: 'loudnorm-single' };

/** @param measured the input as measured (`ebur128=peak=true`). */
export function planLoudnessNormalization(measured: LoudnessReading, target: LoudnessTarget): LoudnessPlan {
  if (!Number.isFinite(measured.inputI) || !Number.isFinite(measured.inputTp)) return { method: 'loudnorm-single' };
  const gainDb = round2(target.lufs - measured.inputI);
  return { method: measured.inputTp + gainDb <= target.truePeakDb ? 'gain' : 'gain-limiter', gainDb };
}

/** One encode pass: its gain, and the loudness before and after the MP3 encoder. */
export interface GainAttempt {
  gainDb: number;
  /** Integrated loudness of what went into the encoder, LUFS. */
  pcmLufs: number;
  /** Integrated loudness of the written file, LUFS. */
  outputLufs: number;
  /** The same chain measured at a second gain in that pass (how loudness follows gain there). */
  probe?: { gainDb: number; pcmLufs: number };
}

/**
 * The gain for the next encode pass. The encoder's shift (written − encoded loudness) of the last
 * pass is taken as it is; the gain → loudness slope before the encoder comes from the last pass
 * and the nearest other point (its probe, the pass before, or the input itself at gain 0 and its
 * measured loudness). The slope is kept within [0.2, 1.2] and a step within ±12 dB.
 * @param inputLufs the input's integrated loudness, LUFS.
 * @throws Error when there is no attempt yet.
 */
export function nextGainDb(attempts: readonly GainAttempt[], targetLufs: number, inputLufs: number): number {
  const last = attempts.at(-1);
  if (!last) throw new Error('nextGainDb: no attempt yet');
  const wantedPcm = targetLufs - (last.outputLufs - last.pcmLufs);
  const other = last.probe ?? attempts.at(-2) ?? { gainDb: 0, pcmLufs: inputLufs };
  let slope = other.gainDb !== last.gainDb ? (last.pcmLufs - other.pcmLufs) / (last.gainDb - other.gainDb) : 1;
  slope = Math.min(1.2, Math.max(0.2, Number.isFinite(slope) ? slope : 1));
  const step = Math.min(12, Math.max(-12, (wantedPcm - last.pcmLufs) / slope));
  return round2(last.gainDb + step);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
