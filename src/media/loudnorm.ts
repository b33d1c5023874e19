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

/** At most this many gain + limiter passes (each followed by a measurement). */
export const MAX_LIMITER_PASSES = 4;

/**
 * What the second pass should be.
 * - `loudnorm-linear`: loudnorm will accept `linear=true`. This mirrors its own test in
 *   `af_loudnorm.c` init(): one gain keeps the true peak under the ceiling, the measured LRA is
 *   within the LRA target, and none of the measured values is at its "unset" default
 *   (TP 99, thresh −70, LRA 0, I 0). When that test fails, loudnorm silently switches to dynamic.
 * - `gain-limiter`: otherwise. Typically the material is too peaky for one gain (espeak-ng speech
 *   has a peak-to-loudness ratio near 20 dB; −16 LUFS at −1.5 dBTP allows 14.5) and loudnorm's
 *   dynamic mode lands 1–1.5 LU under the target on such speech; or the measured LRA is exactly 0
 *   (a steady tone) or above the LRA target. We apply the gain ourselves with an oversampled
 *   limiter (which does nothing when the peaks fit) and correct the gain from what we measure.
 * - `loudnorm-single`: the input measured no loudness (silence): one loudnorm pass, nothing to aim.
 */
export type LoudnessPlan =
  | { method: 'loudnorm-linear' }
  | { method: 'gain-limiter'; gainDb: number }
  | { method: 'loudnorm-single' };

export function planLoudnessNormalization(measured: LoudnormMeasurement, target: LoudnessTarget): LoudnessPlan {
  if (!Number.isFinite(measured.inputI) || !Number.isFinite(measured.inputTp)) return { method: 'loudnorm-single' };
  const gainDb = target.lufs - measured.inputI;
  const unset = measured.inputTp === 99 || measured.inputThresh === -70 || measured.inputLra === 0 || measured.inputI === 0;
  const fits = measured.inputTp + gainDb <= target.truePeakDb && measured.inputLra <= (target.lra ?? 11);
  if (!unset && fits) return { method: 'loudnorm-linear' };
  return { method: 'gain-limiter', gainDb: round2(gainDb) };
}

export interface LimiterAttempt {
  gainDb: number;
  /** Integrated loudness of the written file at that gain, LUFS. */
  outputLufs: number;
}

/**
 * The next gain for the gain + limiter pass: a secant step through the last two attempts (the
 * limiter eats part of every extra dB, so loudness rises slower than gain), a plain step
 * after the first; the slope is kept within [0.2, 1.2] and a step within ±12 dB.
 */
export function nextLimiterGainDb(attempts: readonly LimiterAttempt[], targetLufs: number): number {
  const last = attempts.at(-1);
  if (!last) throw new Error('nextLimiterGainDb: no attempt yet');
  let slope = 1;
  const previous = attempts.at(-2);
  if (previous && last.gainDb !== previous.gainDb) {
    slope = (last.outputLufs - previous.outputLufs) / (last.gainDb - previous.gainDb);
  }
  slope = Math.min(1.2, Math.max(0.2, Number.isFinite(slope) ? slope : 1));
  const step = Math.min(12, Math.max(-12, (targetLufs - last.outputLufs) / slope));
  return round2(last.gainDb + step);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
