import type { LoudnessReading } from './ebur128.js';

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
