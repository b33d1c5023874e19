/**
 * Pure builders for ffmpeg / ffprobe argument arrays. Nothing here touches the file system or
 * starts a process: {@link MediaRepository} runs what these return (execFile, never a shell), so
 * every path stays one argument. Paths that end up inside a filter graph (drawtext's fontfile and
 * textfile) are escaped with {@link escapeFilterValue}.
 */


/** Flags every ffmpeg run starts with: no banner, no progress lines, never read stdin. */
/** Options every ffmpeg and ffprobe call here starts with: no banner, no stdin, no progress lines. */
export const FFMPEG_COMMON = ['-hide_banner', '-nostdin', '-nostats'] as const;

/**
 * A path as an ffmpeg/ffprobe input or output URL. The `file:` prefix stops ffmpeg from reading a
 * relative name such as `a:b.wav` as protocol `a`; `-` (stdin/stdout) is left alone.
 */
export function fileUrl(filePath: string): string {
  return filePath === '-' ? filePath : `file:${filePath}`;
}

/**
 * Escapes a value for use as one filter option inside a filter graph (`-vf`, `-af`,
 * `-filter_complex`, a lavfi input). ffmpeg unescapes twice: first the graph parser
 * (special: `\ ' [ ] , ;`), then the filter's option parser (special: `\ ' :`). We escape for the
 * option parser first, then for the graph parser, as ffmpeg's "Quoting and escaping" page describes.
 * Leading/trailing whitespace is escaped as well, since both parsers would trim it.
 */
export function escapeFilterValue(value: string): string {
  let level1 = value.replace(/[\\':]/g, '\\$&');
  level1 = level1.replace(/^\s/, '\\$&').replace(/\s$/, '\\$&');
  return level1.replace(/[\\'[\],;]/g, '\\$&');
}

/** Milliseconds → seconds as a short decimal string (ffmpeg durations). */
function seconds(ms: number): string {
  return (Math.round(ms) / 1000).toFixed(3);
}

// ---------------------------------------------------------------------------------------------
// Joining clips
// ---------------------------------------------------------------------------------------------

export interface JoinClip {
  file: string;
  /** Decoded duration of the clip, ms (used to place its fade-out). */
  durationMs: number;
}

export interface JoinClipsArgsOptions {
  clips: JoinClip[];
  outFile: string;
  /** Silence between two clips, ms (none before the first or after the last). */
  pauseMs: number;
  /** Output sample rate, Hz. */
  sampleRate: number;
  /** Fade in / out at each clip edge so that cuts do not click, ms. Default 10. */
  fadeMs?: number;
}

/**
 * Joins N clips of any sample rate, sample format and channel count into one mono 16-bit WAV at
 * `sampleRate`: each clip is resampled, downmixed, its timestamps reset, faded in and out, padded
 * with exactly `round(pauseMs × sampleRate / 1000)` samples of silence (all but the last), then
 * concatenated. One filter_complex; no concat-demuxer list files.
 */
export function buildJoinClipsArgs(options: JoinClipsArgsOptions): string[] {
  const { clips, outFile, pauseMs, sampleRate } = options;
  const fadeMs = options.fadeMs ?? 10;
  if (clips.length === 0) throw new Error('buildJoinClipsArgs: no clips to join');
  assertRate(sampleRate);
  if (!(pauseMs >= 0)) throw new Error(`buildJoinClipsArgs: pauseMs must be >= 0, got ${pauseMs}`);

  const padSamples = Math.round((pauseMs * sampleRate) / 1000);
  const inputs: string[] = [];
  const chains: string[] = [];
  clips.forEach((clip, i) => {
    inputs.push('-i', fileUrl(clip.file));
    // Never fade longer than half the clip, so the two fades do not overlap.
    const fade = Math.max(0, Math.min(fadeMs, clip.durationMs / 2));
    const filters = [
      `aresample=${sampleRate}`,
      'aformat=sample_fmts=fltp:channel_layouts=mono',
      'asetpts=N/SR/TB',
    ];
    if (fade > 0) {
      filters.push(`afade=t=in:st=0:d=${seconds(fade)}`);
      filters.push(`afade=t=out:st=${seconds(Math.max(0, clip.durationMs - fade))}:d=${seconds(fade)}`);
    }
    if (i < clips.length - 1 && padSamples > 0) filters.push(`apad=pad_len=${padSamples}`);
    chains.push(`[${i}:a:0]${filters.join(',')}[a${i}]`);
  });
  const labels = clips.map((_, i) => `[a${i}]`).join('');
  chains.push(`${labels}concat=n=${clips.length}:v=0:a=1[out]`);

  return filterGraphToWavArgs(inputs, chains, { sampleRate, channels: 1, outFile });
}

/**
 * ffmpeg arguments that run a filter graph over `inputs` and write its `[out]` pad as 16-bit PCM
 * WAV at `sampleRate` Hz with `channels` channels (an intermediate file, encoded once later).
 */
export function filterGraphToWavArgs(inputs: string[], chains: string[], output: { sampleRate: number; channels: number; outFile: string }): string[] {
  return [
    ...FFMPEG_COMMON,
    '-y',
    ...inputs,
    '-filter_complex',
    chains.join(';'),
    '-map',
    '[out]',
    '-ar',
    String(output.sampleRate),
    '-ac',
    String(output.channels),
    '-c:a',
    'pcm_s16le',
    '-f',
    'wav',
    fileUrl(output.outFile),
  ];
}

// ---------------------------------------------------------------------------------------------
// Loudness normalisation (EBU R128, two passes)
// ---------------------------------------------------------------------------------------------

export interface LoudnormTarget {
  /** Integrated loudness target, LUFS. */
  lufs: number;
  /** True-peak ceiling, dBTP. */
  truePeakDb: number;
  /** Loudness range target, LU. Default 11. */
  lra?: number;
}

function loudnormTargetOptions(target: LoudnormTarget): string {
  return `I=${target.lufs}:TP=${target.truePeakDb}:LRA=${target.lra ?? 11}`;
}

export interface LoudnormApplyArgsOptions extends LoudnormTarget {
  inFile: string;
  outFile: string;
  /** Output sample rate, Hz (loudnorm itself works at 192 kHz). */
  sampleRate: number;
  /** MP3 bit rate, kbit/s. */
  bitrateKbps: number;
}

/**
 * One loudnorm pass (its dynamic mode, at its own 192 kHz), resampled to `sampleRate` and encoded
 * as CBR MP3: the normalisation of an input that measured silent (−inf LUFS), where no gain can be
 * aimed.
 */
export function buildLoudnormApplyArgs(options: LoudnormApplyArgsOptions): string[] {
  const { sampleRate, bitrateKbps } = options;
  assertRate(sampleRate);
  return [
    ...FFMPEG_COMMON,
    '-y',
    '-i',
    fileUrl(options.inFile),
    '-map',
    '0:a:0',
    '-af',
    `loudnorm=${loudnormTargetOptions(options)},aresample=${sampleRate}`,
    '-ar',
    String(sampleRate),
    '-c:a',
    'libmp3lame',
    '-b:a',
    `${bitrateKbps}k`,
    '-f',
    'mp3',
    fileUrl(options.outFile),
  ];
}

/**
 * Measures a file's loudness with `ebur128` (true peak at 4× the rate when `truePeak`); per-frame
 * lines stay below the log level, the summary lands on stderr (parse with `parseEbur128`).
 */
export function buildEbur128Args(inFile: string, options: { truePeak: boolean }): string[] {
  return [
    ...FFMPEG_COMMON,
    '-i',
    fileUrl(inFile),
    '-map',
    '0:a:0',
    '-af',
    `ebur128=framelog=verbose${options.truePeak ? ':peak=true' : ''}`,
    '-f',
    'null',
    '-',
  ];
}

export interface GainEncodeArgsOptions {
  inFile: string;
  outFile: string;
  /** Gain, dB. */
  gainDb: number;
  /**
   * A look-ahead limiter after the gain, at `ceilingDb` (dBFS), running at `rate` Hz (4× the
   * material's rate, so that it sees most inter-sample peaks: a true-peak limiter in practice).
   */
  limiter?: { ceilingDb: number; rate: number };
  /**
   * Also measure the same chain at this gain (to the null muxer, as ebur128 instance `probe`):
   * how loudness follows gain through the limiter, without another run.
   */
  probeGainDb?: number;
  /** Output sample rate, Hz. */
  sampleRate: number;
  /** MP3 bit rate, kbit/s. */
  bitrateKbps: number;
}

/**
 * The encode pass: a fixed gain (then the limiter, if any), back to `sampleRate`, CBR MP3. What
 * goes into the encoder is measured on the way (ebur128 instance `pcm`, integrated loudness), and
 * with `probeGainDb` the chain at a second gain (instance `probe`). The limiter keeps its output
 * level (`level=false`) and removes its look-ahead delay (`latency=true`), so the duration stays.
 */
export function buildGainEncodeArgs(options: GainEncodeArgsOptions): string[] {
  const { sampleRate, limiter } = options;
  assertRate(sampleRate);
  for (const gain of [options.gainDb, options.probeGainDb ?? 0]) {
    if (!Number.isFinite(gain)) throw new Error(`buildGainEncodeArgs: gain must be finite, got ${gain}`);
  }
  const chain = (gainDb: number) => {
    const filters = [`volume=${gainDb.toFixed(2)}dB`];
    if (limiter) {
      const limit = Math.min(1, Math.max(0.0625, 10 ** (limiter.ceilingDb / 20)));
      filters.push(`aresample=${limiter.rate}`, `alimiter=limit=${limit.toFixed(4)}:attack=5:release=50:level=false:latency=true`);
    }
    filters.push(`aresample=${sampleRate}`);
    return filters.join(',');
  };
  const probe = options.probeGainDb !== undefined;
  const graph = [
    probe ? '[0:a:0]asplit=2[main][alt]' : '[0:a:0]anull[main]',
    `[main]${chain(options.gainDb)},asplit=2[enc][measure]`,
    '[measure]ebur128@pcm=framelog=verbose[pcm]',
  ];
  if (probe) graph.push(`[alt]${chain(options.probeGainDb!)},ebur128@probe=framelog=verbose[probe]`);
  return [
    ...FFMPEG_COMMON,
    '-y',
    '-i',
    fileUrl(options.inFile),
    '-filter_complex',
    graph.join(';'),
    '-map',
    '[enc]',
    '-ar',
    String(sampleRate),
    '-c:a',
    'libmp3lame',
    '-b:a',
    `${options.bitrateKbps}k`,
    '-f',
    'mp3',
    fileUrl(options.outFile),
    '-map',
    '[pcm]',
    '-f',
    'null',
    '-',
    ...(probe ? ['-map', '[probe]', '-f', 'null', '-'] : []),
  ];
}

// ---------------------------------------------------------------------------------------------
// Decoded duration
// ---------------------------------------------------------------------------------------------

/**
 * ffprobe decodes every frame of the first audio stream and prints `nb_samples=` per frame and
 * the stream's `sample_rate=`. Decoding applies MP3 encoder delay / padding trimming, so
 * Σ nb_samples / sample_rate is the exact decoded duration for WAV and MP3 alike (unlike the
 * header / bit-rate estimate in `format=duration`). Parse with {@link parseDecodedDurationMs}.
 */
export function buildDurationProbeArgs(file: string): string[] {
  return [
    '-v',
    'error',
    '-select_streams',
    'a:0',
    '-show_entries',
    'stream=sample_rate:frame=nb_samples',
    '-of',
    'default=noprint_wrappers=1',
    fileUrl(file),
  ];
}

/** Reads the output of {@link buildDurationProbeArgs}; ms, not rounded. */
export function parseDecodedDurationMs(stdout: string): number {
  let samples = 0;
  let frames = 0;
  let rate = 0;
  for (const line of stdout.split(/\r?\n/)) {
    const [key, value] = line.split('=', 2);
    if (key === 'nb_samples') {
      samples += Number(value);
      frames += 1;
    } else if (key === 'sample_rate') {
      rate = Number(value);
    }
  }
  if (!(rate > 0)) throw new Error('ffprobe found no audio stream (no sample_rate in its output)');
  if (frames === 0 || !Number.isFinite(samples)) throw new Error('ffprobe decoded no audio frames');
  return (samples * 1000) / rate;
}

// ---------------------------------------------------------------------------------------------
// Card image
// ---------------------------------------------------------------------------------------------

/** An ffmpeg colour: `0xRRGGBB` (optionally `@alpha`) or a name; no filter-special characters. */
export type FfmpegColor = string;

export interface CardArgsOptions {
  outFile: string;
  width: number;
  height: number;
  fontFile: string;
  /** Gradient from the top-left to the bottom-right corner. */
  background: { from: FfmpegColor; to: FfmpegColor };
  textColor: FfmpegColor;
  /** Colour of the small title and index label. */
  accentColor: FfmpegColor;
  /** Files holding the text to draw (UTF-8, no trailing newline); omitted → not drawn. */
  titleFile?: string;
  bodyFile?: string;
  labelFile?: string;
}

const COLOR_PATTERN = /^(0x[0-9a-fA-F]{6}([0-9a-fA-F]{2})?|[a-zA-Z]+)(@(0?\.\d+|1(\.0+)?|0))?$/;

function assertColor(color: string): void {
  if (!COLOR_PATTERN.test(color)) throw new Error(`not an ffmpeg colour: ${JSON.stringify(color)}`);
}

function assertRate(rate: number): void {
  if (!Number.isInteger(rate) || rate < 8000 || rate > 192000) throw new Error(`invalid sample rate ${rate}`);
}

/** Font sizes and margins for a card of the given height (56 px body text at 720 px). */
export function cardLayout(width: number, height: number) {
  const unit = height / 720;
  return {
    margin: Math.round(Math.min(width, height) * 0.09),
    titleSize: Math.max(10, Math.round(30 * unit)),
    bodySize: Math.max(12, Math.round(56 * unit)),
    labelSize: Math.max(10, Math.round(26 * unit)),
    lineSpacing: Math.max(2, Math.round(16 * unit)),
  };
}

/**
 * Several PNG cards in one ffmpeg run. Each card's background is a raw RGB24 frame of its size
 * (`backgroundFile`, drawn by `cardGradientRgb`), then drawtext for the title (small, top-left),
 * the body (large, left-aligned, centred vertically) and the index label (bottom-right). Text
 * comes from files (`textfile=`, `expansion=none`), so the text itself needs no escaping and `%`
 * is drawn as is; the file paths are escaped for the filter graph.
 * @throws Error for no cards, an invalid size or colour.
 */
export function buildCardsArgs(cards: readonly (CardArgsOptions & { backgroundFile: string })[]): string[] {
  if (cards.length === 0) throw new Error('buildCardsArgs: no cards');
  const inputs = cards.flatMap((card) => ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-video_size', `${card.width}x${card.height}`, '-i', fileUrl(card.backgroundFile)]);
  const graph = cards.map((card, i) => `[${i}:v]${cardFilters(card)}[card${i}]`).join(';');
  const outputs = cards.flatMap((card, i) => ['-map', `[card${i}]`, '-frames:v', '1', '-update', '1', '-c:v', 'png', '-f', 'image2', fileUrl(card.outFile)]);
  return [...FFMPEG_COMMON, '-y', ...inputs, '-filter_complex', graph, ...outputs];
}

/** The drawtext chain of one card (see {@link buildCardsArgs}), ending in `format=rgb24`. */
export function cardFilters(options: CardArgsOptions): string {
  const { width, height } = options;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 16 || height < 16) {
    throw new Error(`invalid card size ${width}x${height}`);
  }
  for (const c of [options.background.from, options.background.to, options.textColor, options.accentColor]) {
    assertColor(c);
  }
  const layout = cardLayout(width, height);
  const font = escapeFilterValue(options.fontFile);
  const shadow = `shadowcolor=black@0.45:shadowx=${Math.max(1, Math.round(layout.bodySize / 24))}:shadowy=${Math.max(1, Math.round(layout.bodySize / 24))}`;
  const draw = (file: string, rest: string) =>
    `drawtext=fontfile=${font}:textfile=${escapeFilterValue(file)}:expansion=none:${rest}`;

  const filters: string[] = [];
  if (options.titleFile) {
    filters.push(
      draw(options.titleFile, `fontsize=${layout.titleSize}:fontcolor=${options.accentColor}:x=${layout.margin}:y=${Math.round(layout.margin * 0.7)}:${shadow}`),
    );
  }
  if (options.bodyFile) {
    filters.push(
      draw(
        options.bodyFile,
        `fontsize=${layout.bodySize}:fontcolor=${options.textColor}:line_spacing=${layout.lineSpacing}` +
          `:x=${layout.margin}:y=(h-text_h)/2:${shadow}`,
      ),
    );
  }
  if (options.labelFile) {
    filters.push(
      draw(
        options.labelFile,
        `fontsize=${layout.labelSize}:fontcolor=${options.accentColor}` +
          `:x=w-text_w-${layout.margin}:y=h-text_h-${Math.round(layout.margin * 0.7)}:${shadow}`,
      ),
    );
  }
  filters.push('format=rgb24');
  return filters.join(',');
}

/**
 * Wraps text for a card: NFC, whitespace collapsed, greedy lines of at most `maxChars` characters
 * (code points; longer words are cut), at most `maxLines` lines; when text is left over, the last
 * line ends with an ellipsis (and still fits `maxChars`).
 */
export function wrapCardText(text: string, maxChars = 28, maxLines = 6): string[] {
  if (maxChars < 2 || maxLines < 1) throw new Error('wrapCardText: maxChars >= 2 and maxLines >= 1');
  const len = (s: string) => Array.from(s).length;
  const words = text
    .normalize('NFC')
    .split(/\s+/u)
    .filter((w) => w.length > 0)
    .flatMap((word) => {
      const chars = Array.from(word);
      const parts: string[] = [];
      for (let i = 0; i < chars.length; i += maxChars) parts.push(chars.slice(i, i + maxChars).join(''));
      return parts;
    });

  const lines: string[] = [];
  let current = '';
  let used = 0;
  for (; used < words.length; used++) {
    const word = words[used]!;
    if (current === '') {
      current = word;
    } else if (len(current) + 1 + len(word) <= maxChars) {
      current += ` ${word}`;
    } else {
      lines.push(current);
      if (lines.length === maxLines) break;
      current = word;
    }
  }
  if (lines.length < maxLines && current !== '') {
    lines.push(current);
    used = words.length;
  }
  if (used < words.length && lines.length > 0) {
    // Text left over: end the last line with an ellipsis, dropping words (or characters) to fit.
    let last = lines[lines.length - 1]!;
    while (len(last) + 1 > maxChars) {
      const cut = last.lastIndexOf(' ');
      last = cut > 0 ? last.slice(0, cut) : Array.from(last).slice(0, maxChars - 1).join('');
    }
    lines[lines.length - 1] = `${last.replace(/[\s.,;:!?…-]+$/u, '')}…`;
  }
  return lines;
}

/** One line of at most `maxChars` characters, ellipsis when cut (for titles). */
export function truncateLine(text: string, maxChars: number): string {
  const chars = Array.from(text.normalize('NFC').replace(/\s+/gu, ' ').trim());
  if (chars.length <= maxChars) return chars.join('');
  return `${chars.slice(0, maxChars - 1).join('').trimEnd()}…`;
}

// ---------------------------------------------------------------------------------------------
// Silences in a clip (for word timings)
// ---------------------------------------------------------------------------------------------

/**
 * Finds the silences of an audio file with `silencedetect` (quieter than `noiseDb` dBFS for at
 * least `minSilenceMs`); ffmpeg prints them on stderr, read with {@link parseSilences}.
 */
export function buildSilenceDetectArgs(file: string, noiseDb = -40, minSilenceMs = 120): string[] {
  return [
    '-hide_banner',
    '-nostats',
    '-i',
    fileUrl(file),
    '-map',
    '0:a:0',
    '-af',
    `silencedetect=n=${noiseDb}dB:d=${(minSilenceMs / 1000).toFixed(3)}`,
    '-f',
    'null',
    '-',
  ];
}

/** A silence in a clip, ms. */
export interface Silence {
  startMs: number;
  endMs: number;
}

/**
 * Reads the stderr of {@link buildSilenceDetectArgs}: the silences in order, ms. A silence still
 * open at the end of the file ends at `durationMs`.
 */
export function parseSilences(stderr: string, durationMs: number): Silence[] {
  const silences: Silence[] = [];
  let open: number | undefined;
  for (const line of stderr.split(/\r?\n/)) {
    const start = /silence_start: (-?[\d.]+)/.exec(line);
    if (start) open = Math.max(0, Number(start[1]) * 1000);
    const end = /silence_end: (-?[\d.]+)/.exec(line);
    if (end && open !== undefined) {
      silences.push({ startMs: open, endMs: Math.min(durationMs, Number(end[1]) * 1000) });
      open = undefined;
    }
  }
  if (open !== undefined) silences.push({ startMs: open, endMs: durationMs });
  return silences;
}
