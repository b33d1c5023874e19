import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, copyFile, mkdir, mkdtemp, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { Inject, Injectable } from '@nestjs/common';

import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { MediaCommandError } from '../media/media-command-error.js';
import type { CardRenderer, RenderCardOptions } from '../providers/ports.js';
import {
  buildCardsArgs,
  buildEbur128Args,
  buildGainEncodeArgs,
  buildDurationProbeArgs,
  buildSilenceDetectArgs,
  parseSilences,
  type Silence,
  buildJoinClipsArgs,
  buildLoudnormApplyArgs,
  parseDecodedDurationMs,
} from '../media/ffmpeg-args.js';
import { fontFamilyName } from '../media/font-name.js';
import { joinPcmWavs, pcmDurationMs, pcmSilences, type PcmWav, readPcmWav } from '../media/wav.js';
import { type LoudnessReading, parseEbur128 } from '../media/ebur128.js';
import { cardGradientRgb } from '../media/card-background.js';
import { type BurnCaptions, captionScript } from '../media/captions.js';
import {
  buildChapterMetadata,
  buildConcatList,
  type Chapter,
  buildMuxArgs,
  buildSegmentArgs,
  buildSegmentFilterGraph,
  buildStillsArgs,
  cameraPath,
  planSegments,
  planSlides,
  type SlideInput,
} from '../media/video.js';
import type { X264Preset } from '../shared/video-encoding.js';
import { type GainAttempt, LOUDNESS_TOLERANCE_LU, MAX_ENCODE_PASSES, nextGainDb, planLoudnessNormalization } from '../media/loudnorm.js';
import { makeScratchDir } from '../shared/scratch.js';
import {
  type AudioProbe,
  buildAudioProbeArgs,
  buildSoundtrackArgs,
  DEFAULT_MUSIC_LEVELS,
  musicGainDb as musicGainDbFor,
  parseAudioProbe,
  type SoundtrackArgsOptions,
} from '../media/soundtrack.js';
import { buildThumbnailArgs, buildTitleIntroArgs, fitTitle, type TitleLayout } from '../media/title-card.js';

export interface JoinClipsOptions {
  clips: string[];
  outFile: string;
  pauseMs: number;
  /** Output sample rate, Hz (see `clipRate`). */
  sampleRate: number;
  /**
   * When every clip is a mono 16-bit PCM WAV at one rate, join them in this process at that rate
   * instead (no ffmpeg run; the encode that follows resamples once). Default false.
   */
  clipRate?: boolean;
  signal?: AbortSignal;
}

export interface NormalizeLoudnessOptions {
  inFile: string;
  /** MP3 file to write. */
  outFile: string;
  lufs: number;
  truePeakDb: number;
  sampleRate: number;
  bitrateKbps: number;
  signal?: AbortSignal;
}

/** How the written file was made (see `LoudnessPlan`). */
export type LoudnessMethod = 'gain' | 'gain-limiter' | 'loudnorm-single';

export interface NormalizeLoudnessResult {
  /** Pass 1: the input as measured (ebur128). */
  measured: LoudnessReading;
  /** The written MP3 as measured (its `inputI` / `inputTp` are the file's loudness and true peak). */
  output: LoudnessReading;
  /** How the written file was made. */
  method: LoudnessMethod;
  /** ffmpeg runs it took (measure, then encode + check per attempt). */
  runs: number;
}

export interface RenderVideoOptions {
  /** Image files; `slides` refer to them by index. */
  images: string[];
  /** When each image takes over, in narration time (the first at 0). */
  slides: SlideInput[];
  /** The sound: the merged narration, or the soundtrack made from it (any format ffmpeg reads). */
  narrationFile: string;
  /** The narration's decoded length, ms: the video is exactly this long (to the nearest frame), plus the title card. */
  durationMs: number;
  /** An SRT file added as a soft subtitle track. */
  subtitlesFile?: string;
  /** Captions to burn into the picture (preset, look, cues, word groups), drawn with this font (it needs the text's glyphs). */
  burnIn?: BurnCaptions & { fontFile: string };
  width: number;
  height: number;
  fps: number;
  crossfadeMs: number;
  preset: X264Preset;
  crf: number;
  audioBitrateKbps: number;
  /** ISO 639-2 code of the audio and subtitle tracks. */
  language?: string;
  title?: string;
  /**
   * A title card before the first image: `frames` long (see planIntro), the title drawn with
   * `fontFile`. Everything timed on the narration (slides, burned captions, the soft subtitles)
   * then starts `frames / fps` later; the sound file must already carry that delay.
   */
  intro?: { frames: number; title: string; fontFile: string };
  /** Chapters of the MP4 (one per image), ms in the video. */
  chapters?: Chapter[];
  outFile: string;
  /** Parent folder of the temporary files (default: the system's). */
  workDir?: string;
  signal?: AbortSignal;
}

export interface MixSoundtrackOptions extends Omit<SoundtrackArgsOptions, 'outFile' | 'musicGainDb'> {
  /** MP3 file to write. */
  outFile: string;
  /** Music loudness relative to the narration's, dB (LU). */
  musicVolumeDb?: number;
  /** The narration's integrated loudness, LUFS (what the music is placed against). */
  narrationLufs: number;
  /** Loudness target of the soundtrack, LUFS, and its true-peak ceiling, dBTP. */
  lufs: number;
  truePeakDb: number;
  bitrateKbps: number;
  signal?: AbortSignal;
}

export interface MixSoundtrackResult extends NormalizeLoudnessResult {
  /** The music file's own loudness, LUFS, and the gain put on it, dB (undefined without music). */
  musicLufs?: number;
  musicGainDb?: number;
}

export interface RenderThumbnailOptions {
  imageFile: string;
  width: number;
  height: number;
  title: string;
  fontFile: string;
  /** Vertical centre of the title, as a share of the height. */
  centre: number;
  outFile: string;
  signal?: AbortSignal;
}

export interface RenderVideoResult {
  frames: number;
  /** Images shown (an image with almost no time is left out). */
  slides: number;
  segments: number;
}

/** Cards per ffmpeg run at most (each holds a raw frame in memory: 2.7 MB at 1280×720). */
const CARDS_PER_RUN = 16;

/** Images per ffmpeg run when stills are made, and slides per render segment (memory: ~9 frames per input). */
const STILLS_PER_RUN = 8;
const SLIDES_PER_SEGMENT = 6;

interface RunResult {
  stdout: string;
  stderr: string;
}

const STDERR_TAIL_LINES = 12;
/** Threshold and shortest length of a silence, dBFS and ms (the defaults of buildSilenceDetectArgs). */
const SILENCE_NOISE_DB = -40;
const SILENCE_MIN_MS = 120;

/** The samples of a RIFF/WAVE file holding integer PCM (told by its first bytes); undefined for any other file (ffmpeg reads those). */
async function readWavFile(file: string): Promise<PcmWav | undefined> {
  // A file that cannot be opened is ffprobe's to report, in the words of every other media failure.
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const head = Buffer.alloc(12);
    const { bytesRead } = await handle.read(head, 0, 12, 0);
    if (bytesRead < 12 || head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WAVE') return undefined;
    return readPcmWav(await handle.readFile());
  } finally {
    await handle.close();
  }
}

/** The sample layout of a PCM WAV file from its first 4 KiB (its samples cut to what that holds); undefined for any other file. */
async function readWavHeader(file: string): Promise<PcmWav | undefined> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return readPcmWav(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/** ffprobe processes at a time when joinClips measures its clips. */
const PROBE_CONCURRENCY = 4;
const MAX_BUFFER = 256 * 1024 * 1024;

/**
 * Runs ffmpeg and ffprobe. Arguments come from the pure builders in `media/ffmpeg-args.ts` and are
 * passed as arrays to execFile (never a shell). No business rules here: callers decide rates,
 * targets, colours and text. Outputs are written to a sibling temporary file and renamed into
 * place, so a failed or aborted run never leaves a half-written file under the final name.
 */
@Injectable()
export class MediaRepository implements CardRenderer {
  private readonly ffmpeg: string;
  private readonly ffprobe: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.ffmpeg = config.binaries.ffmpeg;
    this.ffprobe = config.binaries.ffprobe;
  }

  /**
   * Duration of the first audio stream as decoded (Σ samples / rate), ms, not rounded. A PCM WAV
   * (the clips of espeak-ng, Gemini, WAV-answering servers) is read from its header and sample
   * count in this process; anything else is decoded by ffprobe.
   */
  async durationMs(file: string, signal?: AbortSignal): Promise<number> {
    const wav = await readWavFile(file);
    if (wav) return pcmDurationMs(wav);
    const { stdout } = await this.run(this.ffprobe, buildDurationProbeArgs(file), signal);
    try {
      return parseDecodedDurationMs(stdout);
    } catch (error) {
      throw new Error(`${file}: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * The silences of a file's first audio stream (quieter than −40 dBFS for ≥ 120 ms), ms, in order;
   * one still open at the end ends at `durationMs`.
   */
  async silences(file: string, durationMs: number, signal?: AbortSignal): Promise<Silence[]> {
    // A PCM WAV is read in this process by silencedetect's rule (media/wav.ts): no ffmpeg process per clip.
    const wav = await readWavFile(file);
    if (wav) return pcmSilences(wav, SILENCE_NOISE_DB, SILENCE_MIN_MS).map((s) => ({ startMs: s.startMs, endMs: Math.min(durationMs, s.endMs) }));
    const { stderr } = await this.run(this.ffmpeg, buildSilenceDetectArgs(file, SILENCE_NOISE_DB, SILENCE_MIN_MS), signal);
    return parseSilences(stderr, durationMs);
  }

  /**
   * Joins clips into one mono 16-bit WAV at `sampleRate`, `pauseMs` of silence between clips, each
   * clip faded in and out over 10 ms. With `clipRate`, clips that are all mono 16-bit PCM WAV at one
   * rate are joined in this process at that rate (see `joinPcmWavs`); anything else goes through
   * one ffmpeg run.
   */
  async joinClips(options: JoinClipsOptions): Promise<void> {
    const { signal } = options;
    if (options.clips.length === 0) throw new Error('joinClips: no clips to join');
    if (options.clipRate) {
      const wavs: PcmWav[] = [];
      for (const file of options.clips) {
        const wav = await readWavFile(file);
        if (!wav || wav.channels !== 1 || wav.bitsPerSample !== 16 || wav.sampleRate !== (wavs[0]?.sampleRate ?? wav.sampleRate)) break;
        wavs.push(wav);
      }
      const joined = wavs.length === options.clips.length ? joinPcmWavs(wavs, { pauseMs: options.pauseMs }) : undefined;
      if (joined) {
        signal?.throwIfAborted();
        await this.writeAtomically(options.outFile, 'wav', (tmp) => writeFile(tmp, joined));
        return;
      }
    }
    const durations = await mapLimited(options.clips, PROBE_CONCURRENCY, (file) => this.durationMs(file, signal));
    await this.writeAtomically(options.outFile, 'wav', (tmp) =>
      this.run(
        this.ffmpeg,
        buildJoinClipsArgs({
          clips: options.clips.map((file, i) => ({ file, durationMs: durations[i]! })),
          outFile: tmp,
          pauseMs: options.pauseMs,
          sampleRate: options.sampleRate,
        }),
        signal,
      ),
    );
  }

  /**
   * EBU R128 loudness normalisation to an MP3 at `sampleRate` and `bitrateKbps`.
   * Pass 1 measures the input (ebur128, true peak). Then each encode pass applies a gain (and, when
   * the gain would lift the true peak over the ceiling, an oversampled limiter at the ceiling, at
   * 4× the lower of the input and output rates), measures what goes into the encoder on the way,
   * and the written MP3 is measured (ebur128, true peak). A pass more than
   * {@link LOUDNESS_TOLERANCE_LU} off is aimed again (see `nextGainDb`), at most
   * {@link MAX_ENCODE_PASSES} times; the first limiter pass also measures the chain 2 dB higher, so
   * the second lands. The attempt closest to the target is kept (files over the true-peak ceiling
   * + 0.5 dB only when nothing else is left). A silent input gets one loudnorm pass.
   */
  async normalizeLoudness(options: NormalizeLoudnessOptions): Promise<NormalizeLoudnessResult> {
    const { signal, lufs, truePeakDb, sampleRate, bitrateKbps } = options;
    const measure = async (file: string) => parseEbur128((await this.run(this.ffmpeg, buildEbur128Args(file, { truePeak: true }), signal)).stderr);
    const measured = await measure(options.inFile);
    let runs = 1;
    const inputRate = (await readWavHeader(options.inFile))?.sampleRate ?? sampleRate;

    const dir = path.dirname(options.outFile);
    const tmpFiles: string[] = [];
    const candidates: { file: string; output: LoudnessReading; method: LoudnessMethod }[] = [];
    const distance = (m: LoudnessReading) => (Number.isFinite(m.inputI) ? Math.abs(m.inputI - lufs) : Infinity);
    const tmpFile = () => {
      const file = path.join(dir, `.${path.basename(options.outFile)}.${randomUUID()}.tmp.mp3`);
      tmpFiles.push(file);
      return file;
    };

    try {
      const plan = planLoudnessNormalization(measured, { lufs, truePeakDb });
      if (plan.method === 'loudnorm-single') {
        const file = tmpFile();
        await this.run(this.ffmpeg, buildLoudnormApplyArgs({ inFile: options.inFile, outFile: file, lufs, truePeakDb, sampleRate, bitrateKbps }), signal);
        candidates.push({ file, output: await measure(file), method: plan.method });
        runs += 2;
      } else {
        const attempts: GainAttempt[] = [];
        let gainDb = plan.gainDb;
        let limited = plan.method === 'gain-limiter';
        for (let pass = 0; pass < MAX_ENCODE_PASSES; pass++) {
          limited ||= measured.inputTp + gainDb > truePeakDb;
          const probeGainDb = limited && !attempts.some((a) => a.probe) ? gainDb + 2 : undefined;
          const file = tmpFile();
          const encoded = await this.run(
            this.ffmpeg,
            buildGainEncodeArgs({
              inFile: options.inFile,
              outFile: file,
              gainDb,
              limiter: limited ? { ceilingDb: truePeakDb, rate: 4 * Math.min(inputRate, sampleRate) } : undefined,
              probeGainDb,
              sampleRate,
              bitrateKbps,
            }),
            signal,
          );
          const output = await measure(file);
          runs += 2;
          candidates.push({ file, output, method: limited ? 'gain-limiter' : 'gain' });
          if (!Number.isFinite(output.inputI) || distance(output) <= LOUDNESS_TOLERANCE_LU) break;
          attempts.push({
            gainDb,
            pcmLufs: parseEbur128(encoded.stderr, 'pcm').inputI,
            outputLufs: output.inputI,
            probe: probeGainDb === undefined ? undefined : { gainDb: probeGainDb, pcmLufs: parseEbur128(encoded.stderr, 'probe').inputI },
          });
          gainDb = nextGainDb(attempts, lufs, measured.inputI);
        }
      }

      // Closest to the target, preferring files under the true-peak ceiling (+0.5 dB for MP3 overshoot).
      const score = (c: (typeof candidates)[number]) => distance(c.output) + (c.output.inputTp > truePeakDb + 0.5 ? 100 : 0);
      const best = candidates.reduce((a, b) => (score(b) < score(a) ? b : a));
      await rename(best.file, options.outFile);
      return { measured, output: best.output, method: best.method, runs };
    } finally {
      await Promise.all(tmpFiles.map((file) => rm(file, { force: true })));
    }
  }

  /**
   * What a file holds, by its content (ffprobe): container, first audio codec, video streams and
   * length. @throws MediaCommandError when ffprobe cannot read it at all (not a media file).
   */
  async probeAudio(file: string, signal?: AbortSignal): Promise<AudioProbe> {
    const { stdout } = await this.run(this.ffprobe, buildAudioProbeArgs(file), signal);
    return parseAudioProbe(stdout);
  }

  /** Integrated loudness (LUFS) and true peak (dBTP) of a file's first audio stream (ebur128's measurement). */
  async measureLoudness(file: string, signal?: AbortSignal): Promise<LoudnessReading> {
    const { stderr } = await this.run(this.ffmpeg, buildEbur128Args(file, { truePeak: true }), signal);
    return parseEbur128(stderr);
  }

  /**
   * Writes the video's soundtrack as an MP3 (see `media/soundtrack.ts`): the narration after
   * `narrationStartMs`, the spoken title, and the music (looped or cut, faded, placed
   * `musicVolumeDb` against the narration's loudness from its own measured loudness, ducked under
   * the voice), then normalised like the narration ({@link normalizeLoudness}) to `lufs` and
   * `truePeakDb`.
   */
  async mixSoundtrack(options: MixSoundtrackOptions): Promise<MixSoundtrackResult> {
    const { signal } = options;
    let musicLufs: number | undefined;
    let musicGain: number | undefined;
    if (options.musicFile) {
      musicLufs = (await this.measureLoudness(options.musicFile, signal)).inputI;
      musicGain = musicGainDbFor(options.narrationLufs, musicLufs, options.musicVolumeDb ?? DEFAULT_MUSIC_LEVELS.volumeDb);
    }
    const dir = await makeScratchDir('soundtrack-');
    try {
      const mixed = path.join(dir, 'mixed.wav');
      await this.run(
        this.ffmpeg,
        buildSoundtrackArgs({
          narrationFile: options.narrationFile,
          narrationStartMs: options.narrationStartMs,
          titleSpeechFile: options.titleSpeechFile,
          titleSpeechStartMs: options.titleSpeechStartMs,
          musicFile: options.musicFile,
          musicGainDb: musicGain,
          duckingDb: options.duckingDb,
          durationMs: options.durationMs,
          sampleRate: options.sampleRate,
          outFile: mixed,
        }),
        signal,
      );
      const result = await this.normalizeLoudness({
        inFile: mixed,
        outFile: options.outFile,
        lufs: options.lufs,
        truePeakDb: options.truePeakDb,
        sampleRate: options.sampleRate,
        bitrateKbps: options.bitrateKbps,
        signal,
      });
      return { ...result, musicLufs, musicGainDb: musicGain };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Renders `thumbnail.jpg`: the image with the title on a dark band (see `media/title-card.ts`).
   * @throws Error when the font file cannot be read.
   */
  async renderThumbnail(options: RenderThumbnailOptions): Promise<TitleLayout> {
    await assertReadable(options.fontFile);
    const dir = await makeScratchDir('thumbnail-');
    try {
      const layout = fitTitle(options.title, options.width, options.height);
      const lineFiles = await writeLines(dir, layout.lines);
      await this.writeAtomically(options.outFile, 'jpg', (tmp) =>
        this.run(
          this.ffmpeg,
          buildThumbnailArgs({
            imageFile: options.imageFile,
            width: options.width,
            height: options.height,
            title: { fontFile: options.fontFile, lineFiles, layout, centre: options.centre },
            outFile: tmp,
          }),
          options.signal,
        ),
      );
      return layout;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Renders one PNG card (see `buildCardsArgs`): the background drawn in this process, the text by
   * ffmpeg's drawtext through temporary files, so it needs no escaping. Cards asked for while a
   * run is going are drawn together in the next run (up to {@link CARDS_PER_RUN}); when such a run
   * fails, each of its cards is drawn again alone, so a failure is the failing card's own. A card
   * whose `signal` aborts is given up at once (the run stops when all of its cards are given up).
   * @throws Error when the font file cannot be read (drawtext would silently fall back to a
   * fontconfig font that may lack the glyphs); the AbortError when `signal` aborts;
   * MediaCommandError when ffmpeg fails.
   */
  async renderCard(options: RenderCardOptions): Promise<void> {
    await assertReadable(options.fontFile);
    const png = await new Promise<Buffer>((resolve, reject) => {
      const card: PendingCard = { options, resolve, reject, settled: false };
      const signal = options.signal;
      if (signal?.aborted) {
        reject(abortError(signal));
        return;
      }
      signal?.addEventListener(
        'abort',
        () => {
          if (card.settled) return;
          card.settled = true;
          reject(abortError(signal));
          card.onAbort?.();
        },
        { once: true },
      );
      this.cardQueue.push(card);
      void this.drawQueuedCards();
    });
    await this.writeAtomically(options.outFile, 'png', (tmp) => writeFile(tmp, png));
  }

  private readonly cardQueue: PendingCard[] = [];
  private drawingCards = false;

  /** Draws queued cards, one run per batch, until the queue is empty. */
  private async drawQueuedCards(): Promise<void> {
    if (this.drawingCards) return;
    this.drawingCards = true;
    try {
      // Cards asked for in the same turn of the event loop go into the first run together.
      await new Promise((resolve) => setImmediate(resolve));
      while (this.cardQueue.length > 0) {
        const batch = this.cardQueue.splice(0, CARDS_PER_RUN).filter((card) => !card.settled);
        if (batch.length === 0) continue;
        try {
          await this.drawCards(batch);
        } catch (error) {
          if (batch.length === 1) {
            settle(batch[0]!, () => batch[0]!.reject(error));
          } else {
            for (const card of batch.filter((c) => !c.settled)) {
              await this.drawCards([card]).catch((alone: unknown) => settle(card, () => card.reject(alone)));
            }
          }
        }
      }
    } finally {
      this.drawingCards = false;
    }
  }

  /** One ffmpeg run for `cards`; resolves each card still wanted with its PNG bytes. */
  private async drawCards(cards: PendingCard[]): Promise<void> {
    const stop = new AbortController();
    for (const card of cards) card.onAbort = () => cards.every((c) => c.settled) && stop.abort();
    const dir = await makeScratchDir('cards-');
    try {
      const backgrounds = new Map<string, string>();
      const specs = [];
      for (const [i, { options }] of cards.entries()) {
        const textFile = async (name: string, text: string | undefined) => {
          if (text === undefined || text.trim() === '') return undefined;
          const file = path.join(dir, `${i}-${name}`);
          await writeFile(file, text, 'utf8');
          return file;
        };
        const look = `${options.width}x${options.height}:${options.background.from}:${options.background.to}`;
        let backgroundFile = backgrounds.get(look);
        if (!backgroundFile) {
          backgroundFile = path.join(dir, `background-${backgrounds.size}.rgb`);
          await writeFile(backgroundFile, cardGradientRgb(options.width, options.height, options.background.from, options.background.to));
          backgrounds.set(look, backgroundFile);
        }
        specs.push({
          outFile: path.join(dir, `card-${i}.png`),
          backgroundFile,
          width: options.width,
          height: options.height,
          fontFile: options.fontFile,
          background: options.background,
          textColor: options.textColor,
          accentColor: options.accentColor,
          titleFile: await textFile('title.txt', options.title),
          bodyFile: await textFile('body.txt', options.bodyLines?.join('\n')),
          labelFile: await textFile('label.txt', options.label),
        });
      }
      await this.run(this.ffmpeg, buildCardsArgs(specs), stop.signal);
      for (const [i, card] of cards.entries()) {
        if (card.settled) continue;
        const png = await readFile(specs[i]!.outFile);
        settle(card, () => card.resolve(png));
      }
    } finally {
      for (const card of cards) card.onAbort = undefined;
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Renders an MP4 (H.264 + AAC, soft mov_text subtitles, +faststart) from images and the
   * narration; see `media/video.ts` for how. Temporary files live in a private folder that is
   * removed afterwards; the output appears under its name only when complete.
   */
  async renderVideo(options: RenderVideoOptions): Promise<RenderVideoResult> {
    const { signal, width, height, fps } = options;
    const plan = planSlides(options.slides, options.durationMs, fps, options.crossfadeMs);
    const segments = planSegments(plan, SLIDES_PER_SEGMENT);
    const camera = cameraPath(plan);
    const introMs = options.intro ? (options.intro.frames * 1000) / fps : 0;
    const dir = await (options.workDir ? mkdtemp(path.join(options.workDir, 'storyforge-video-')) : makeScratchDir('video-'));
    try {
      // 1. One raw frame per image that is shown.
      const shown = [...new Set(plan.slides.map((s) => s.image))];
      const stills: string[] = [];
      for (const image of shown) stills[image] = path.join(dir, `still-${image}.yuv`);
      for (let i = 0; i < shown.length; i += STILLS_PER_RUN) {
        const batch = shown.slice(i, i + STILLS_PER_RUN);
        await this.run(
          this.ffmpeg,
          buildStillsArgs({ images: batch.map((k) => options.images[k]!), outFiles: batch.map((k) => stills[k]!), width, height }),
          signal,
        );
      }

      let burnIn: { assFile: string; fontsDir: string } | undefined;
      if (options.burnIn) {
        const fontsDir = path.join(dir, 'fonts');
        await mkdir(fontsDir);
        const fontData = await readFile(options.burnIn.fontFile).catch((error: unknown) => {
          throw new Error(`font file ${JSON.stringify(options.burnIn!.fontFile)} cannot be read`, { cause: error });
        });
        await copyFile(options.burnIn.fontFile, path.join(fontsDir, `subtitles${path.extname(options.burnIn.fontFile) || '.ttf'}`));
        const fontName = fontFamilyName(fontData) ?? path.basename(options.burnIn.fontFile).replace(/\.[^.]+$/, '');
        const assFile = path.join(dir, 'subtitles.ass');
        await writeFile(assFile, captionScript(options.burnIn, { width, height, fontName }), 'utf8');
        burnIn = { assFile, fontsDir };
      }

      // 2. Segments.
      const segmentFiles: string[] = [];
      for (const [i, segment] of segments.entries()) {
        const outFile = path.join(dir, `segment-${String(i + 1).padStart(3, '0')}.mp4`);
        const filterScript = path.join(dir, `segment-${i + 1}.filter`);
        const common = { segment, stills, width, height, fps, camera, burnIn, preset: options.preset, crf: options.crf, outFile };
        await writeFile(filterScript, buildSegmentFilterGraph(common), 'utf8');
        await this.run(this.ffmpeg, buildSegmentArgs({ ...common, filterScript }), signal);
        segmentFiles.push(outFile);
      }

      // The title card before them, from the first image's still.
      if (options.intro) {
        await assertReadable(options.intro.fontFile);
        const layout = fitTitle(options.intro.title, width, height);
        const introFile = path.join(dir, 'segment-000-title.mp4');
        await this.run(
          this.ffmpeg,
          buildTitleIntroArgs({
            still: stills[plan.slides[0]!.image]!,
            width,
            height,
            fps,
            frames: options.intro.frames,
            title: { fontFile: options.intro.fontFile, lineFiles: await writeLines(dir, layout.lines), layout, centre: 0.5 },
            preset: options.preset,
            crf: options.crf,
            outFile: introFile,
          }),
          signal,
        );
        segmentFiles.unshift(introFile);
      }

      // 3. Join, add narration and subtitles.
      const concatList = path.join(dir, 'segments.ffconcat');
      await writeFile(concatList, buildConcatList(segmentFiles), 'utf8');
      let chaptersFile: string | undefined;
      if (options.chapters?.length) {
        chaptersFile = path.join(dir, 'chapters.ffmeta');
        await writeFile(chaptersFile, buildChapterMetadata(options.chapters), 'utf8');
      }
      await this.writeAtomically(options.outFile, 'mp4', (tmp) =>
        this.run(
          this.ffmpeg,
          buildMuxArgs({
            concatList,
            narrationFile: options.narrationFile,
            subtitlesFile: options.subtitlesFile,
            subtitlesOffsetMs: introMs,
            durationMs: options.durationMs + introMs,
            language: options.language,
            title: options.title,
            chaptersFile,
            audioBitrateKbps: options.audioBitrateKbps,
            outFile: tmp,
          }),
          signal,
        ),
      );
      return { frames: plan.totalFrames + (options.intro?.frames ?? 0), slides: plan.slides.length, segments: segmentFiles.length };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Lets `produce` write a temporary sibling of `outFile`, then renames it into place. */
  private async writeAtomically(outFile: string, extension: string, produce: (tmp: string) => Promise<unknown>): Promise<void> {
    const tmp = path.join(path.dirname(outFile), `.${path.basename(outFile)}.${randomUUID()}.tmp.${extension}`);
    try {
      await produce(tmp);
      await rename(tmp, outFile);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }

  /**
   * Runs a binary with an argument array, capturing stdout and stderr.
   * @throws Error naming the binary when it is not installed; the AbortError when `signal` aborts;
   * {@link MediaCommandError} with the exit code and the last stderr lines on any other failure.
   */
  private run(binary: string, args: string[], signal?: AbortSignal): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      execFile(
        binary,
        args,
        { encoding: 'utf8', maxBuffer: MAX_BUFFER, signal, windowsHide: true },
        (error, stdout, stderr) => {
          if (!error) {
            resolve({ stdout, stderr });
            return;
          }
          const failure = error as NodeJS.ErrnoException & { code?: string | number; signal?: NodeJS.Signals | null };
          if (failure.name === 'AbortError' || signal?.aborted) {
            reject(failure);
            return;
          }
          if (failure.code === 'ENOENT') {
            const name = path.basename(binary);
            const setting = name.includes('ffprobe') ? 'FFPROBE_PATH' : 'FFMPEG_PATH';
            reject(
              new Error(
                `${binary} was not found. Install it (Debian/Ubuntu: apt-get install ffmpeg) or set ${setting} to its path.`,
                { cause: error },
              ),
            );
            return;
          }
          if (failure.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
            reject(new Error(`${binary} wrote more than ${MAX_BUFFER} bytes of output`, { cause: error }));
            return;
          }
          const exitCode = typeof failure.code === 'number' ? failure.code : null;
          const killedBy = failure.signal ?? null;
          const tail = String(stderr ?? '')
            .split(/\r?\n/)
            .map((line) => line.trimEnd())
            .filter((line) => line !== '')
            .slice(-STDERR_TAIL_LINES)
            .join('\n');
          const how = exitCode !== null ? `exit code ${exitCode}` : `signal ${killedBy ?? 'unknown'}`;
          reject(
            new MediaCommandError(
              `${path.basename(binary)} failed (${how}): ${summarize(args)}\n${tail || '(no output on stderr)'}`,
              binary,
              exitCode,
              killedBy,
              tail,
            ),
          );
        },
      );
    });
  }
}

/** A card waiting for its run (see `MediaRepository.renderCard`). */
interface PendingCard {
  options: RenderCardOptions;
  resolve: (png: Buffer) => void;
  reject: (error: unknown) => void;
  /** Resolved, rejected or given up. */
  settled: boolean;
  /** Called when the card is given up during its run. */
  onAbort?: () => void;
}

/** Settles a pending card once. */
function settle(card: PendingCard, how: () => void): void {
  if (card.settled) return;
  card.settled = true;
  how();
}

/** The error an aborted call rejects with (named `AbortError`, like execFile's). */
function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason }), { name: 'AbortError' });
}

/** @throws Error naming the font file when it cannot be read (drawtext would fall back to a font without the glyphs). */
async function assertReadable(fontFile: string): Promise<void> {
  try {
    await access(fontFile, fsConstants.R_OK);
  } catch (error) {
    throw new Error(`font file ${JSON.stringify(fontFile)} cannot be read`, { cause: error });
  }
}

/** Writes each line to its own UTF-8 file in `dir` (`title-1.txt` …); returns the paths in order. */
async function writeLines(dir: string, lines: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const [i, line] of lines.entries()) {
    const file = path.join(dir, `title-${i + 1}.txt`);
    await writeFile(file, line, 'utf8');
    files.push(file);
  }
  return files;
}

/** `items.map(fn)` with at most `limit` calls in flight; results in input order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The command line, shortened for an error message. */
function summarize(args: string[]): string {
  const text = args.map((a) => (/[\s'"]/.test(a) ? JSON.stringify(a) : a)).join(' ');
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}
