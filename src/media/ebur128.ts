/**
 * Loudness as ffmpeg's `ebur128` filter reports it (ITU-R BS.1770 / EBU R128): the summary each
 * instance prints to stderr when it closes. Much cheaper than `loudnorm`'s measurement, which
 * resamples everything to 192 kHz first; `ebur128=peak=true` finds the true peak at 4× the rate.
 */

/** One loudness reading of a stream. */
export interface LoudnessReading {
  /** Integrated loudness, LUFS; −Infinity for silence (ebur128 reports −70, the absolute gate). */
  inputI: number;
  /** True peak, dBTP (NaN when the reading was taken without `peak=true`); −Infinity for silence. */
  inputTp: number;
  /** Loudness range, LU. */
  inputLra: number;
  /** Relative gating threshold of the integrated loudness, LUFS. */
  inputThresh: number;
}

/** ebur128's absolute gate, LUFS: an integrated loudness at or below it means nothing passed the gate. */
const ABSOLUTE_GATE_LUFS = -70;

function numberAfter(block: string, pattern: RegExp): number | undefined {
  const match = pattern.exec(block);
  if (!match) return undefined;
  if (match[1] === '-inf') return Number.NEGATIVE_INFINITY;
  if (match[1] === 'inf') return Number.POSITIVE_INFINITY;
  return Number(match[1]);
}

/**
 * The readings of every ebur128 instance in ffmpeg's stderr, by instance name: `ebur128@NAME` in
 * the graph → `NAME`; an unnamed instance → `Parsed_ebur128_N`. An instance may print a summary
 * more than once (a graph configured twice prints an empty one first): the last one counts.
 * @throws Error when stderr holds no ebur128 summary (the filter did not run, or the log level was
 * below `info`).
 */
export function parseEbur128Summaries(stderr: string): Map<string, LoudnessReading> {
  const readings = new Map<string, LoudnessReading>();
  const header = /^\[(?:ebur128@([^\s\]]+)|(Parsed_ebur128_\d+)) @ [^\]]+\] Summary:/gm;
  const starts: { name: string; at: number }[] = [];
  let match: RegExpExecArray | null;
  while ((match = header.exec(stderr)) !== null) starts.push({ name: match[1] ?? match[2]!, at: match.index });
  for (const [i, start] of starts.entries()) {
    const block = stderr.slice(start.at, starts[i + 1]?.at ?? stderr.length);
    const integrated = block.slice(block.indexOf('Integrated loudness:'));
    const range = block.slice(block.indexOf('Loudness range:'));
    const inputI = numberAfter(integrated, /I:\s+(-?[\d.]+|-?inf) LUFS/);
    if (inputI === undefined) continue;
    const truePeak = block.includes('True peak:') ? numberAfter(block.slice(block.indexOf('True peak:')), /Peak:\s+(-?[\d.]+|-?inf) dBFS/) : undefined;
    readings.set(start.name, {
      inputI: inputI <= ABSOLUTE_GATE_LUFS ? Number.NEGATIVE_INFINITY : inputI,
      inputTp: truePeak ?? Number.NaN,
      inputLra: numberAfter(range, /LRA:\s+(-?[\d.]+) LU/) ?? Number.NaN,
      inputThresh: numberAfter(integrated, /Threshold:\s+(-?[\d.]+) LUFS/) ?? Number.NaN,
    });
  }
  if (readings.size === 0) {
    const tail = stderr.trim().split('\n').slice(-5).join('\n');
    throw new Error(`no ebur128 summary in the ffmpeg output${tail ? `; output ended with:\n${tail}` : '; the output was empty'}`);
  }
  return readings;
}

/**
 * The reading of one ebur128 instance (by name, see {@link parseEbur128Summaries}); without a
 * name, the only or last one. @throws Error when there is no such reading.
 */
export function parseEbur128(stderr: string, name?: string): LoudnessReading {
  const readings = parseEbur128Summaries(stderr);
  const reading = name === undefined ? [...readings.values()].at(-1) : readings.get(name);
  if (!reading) throw new Error(`no ebur128 summary for ${JSON.stringify(name)} in the ffmpeg output`);
  return reading;
}
