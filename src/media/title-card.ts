/**
 * The story's title on screen: the title card that opens the video (the title over the first
 * image, blurred and dimmed, which then clears into the first image) and `thumbnail.jpg` (the
 * first image with the title on a dark band). Pure layout and ffmpeg argument builders;
 * {@link MediaRepository} runs them.
 *
 * Text is drawn by drawtext from UTF-8 files, one file and one drawtext per line, so every line is
 * centred and the text needs no escaping. Each line is placed by its baseline (`y = baseline −
 * ascent`), so lines with and without stacked Vietnamese marks (Ẫ, Ỗ, ệ …) sit on an even grid,
 * and the line height leaves room for a capital's two marks above and a descender below.
 */

import { escapeFilterValue, FFMPEG_COMMON, fileUrl } from './ffmpeg-args.js';
import type { X264Preset } from '../shared/video-encoding.js';
import { x264OutputArgs } from './video.js';


/** Thumbnail size for each video shape, pixels (YouTube's 1280×720; a vertical video's full frame). */
export const THUMBNAIL_SIZES = {
  '16:9': { width: 1280, height: 720 },
  '9:16': { width: 1080, height: 1920 },
} as const;

/** Length of the title card, ms, when the title is not spoken (the brief's 1.5–2 s). */
export const TITLE_CARD_MS = 1800;
/** When the spoken title starts on the card, and the quiet after it before the story starts, ms. */
export const TITLE_SPEECH_START_MS = 300;
export const TITLE_SPEECH_TAIL_MS = 500;
/** The longest a card waits for a spoken title, ms. */
export const TITLE_CARD_MAX_MS = 6000;

/** Line height, em: room for two stacked marks over a capital and a descender. */
const LINE_EM = 1.45;

/** The title card's length in whole frames, and that length in ms (exactly frames / fps). */
export interface IntroPlan {
  frames: number;
  durationMs: number;
}

/**
 * How long the title card lasts: {@link TITLE_CARD_MS}, or, when the title is spoken, the speech
 * plus {@link TITLE_SPEECH_START_MS} before and {@link TITLE_SPEECH_TAIL_MS} after it (at most
 * {@link TITLE_CARD_MAX_MS}), rounded to whole frames so that the sound can be delayed by exactly it.
 */
export function planIntro(fps: number, spokenTitleMs?: number): IntroPlan {
  if (!(fps > 0)) throw new RangeError(`fps must be > 0, got ${fps}`);
  const wanted =
    spokenTitleMs === undefined
      ? TITLE_CARD_MS
      : Math.min(TITLE_CARD_MAX_MS, Math.max(TITLE_CARD_MS, TITLE_SPEECH_START_MS + spokenTitleMs + TITLE_SPEECH_TAIL_MS));
  const frames = Math.max(1, Math.round((wanted * fps) / 1000));
  return { frames, durationMs: (frames * 1000) / fps };
}

/** The title wrapped for a frame: its lines, font size and line height, pixels. */
export interface TitleLayout {
  lines: string[];
  fontSize: number;
  lineHeight: number;
  /** Horizontal margin, pixels. */
  margin: number;
}

/**
 * Wraps a title for a `width`×`height` frame in at most `maxLines` (3, portrait 5) centred lines, as even as they
 * go, each within the margins by its estimated width ({@link textWidthEm}): the largest font size
 * (from 10 % of the frame's short side down to 60 % of that) at which the whole title fits; when
 * even the smallest cannot hold it, its last line ends with an ellipsis.
 * @throws RangeError for an empty title or a frame under 64 px.
 */
export function fitTitle(title: string, width: number, height: number, maxLines = height > width ? 5 : 3): TitleLayout {
  if (title.trim() === '') throw new RangeError('fitTitle: the title is empty');
  if (!(width >= 64 && height >= 64)) throw new RangeError(`fitTitle: frame ${width}x${height} is too small`);
  const short = Math.min(width, height);
  const margin = Math.round(width * 0.07);
  const base = short * 0.1;
  const words = title.normalize('NFC').split(/\s+/u).filter(Boolean);
  let layout: TitleLayout | undefined;
  for (let scale = 1; scale >= 0.6 - 1e-9; scale -= 0.1) {
    const fontSize = Math.max(12, Math.round(base * scale));
    const maxEm = (width - 2 * margin) / fontSize;
    const lines = wrapByWidth(words, maxEm);
    layout = { lines, fontSize, lineHeight: Math.round(fontSize * LINE_EM), margin };
    if (lines.length <= maxLines) {
      layout.lines = balanceLines(words, lines.length, maxEm);
      return layout;
    }
  }
  // Even the smallest size needs more lines: keep the first ones, the last cut with an ellipsis.
  const kept = layout!.lines.slice(0, maxLines);
  const maxEm = (width - 2 * margin) / layout!.fontSize;
  let last = `${kept[maxLines - 1]!}…`;
  while (textWidthEm(last) > maxEm && last.length > 2) last = `${Array.from(last).slice(0, -2).join('').trimEnd()}…`;
  kept[maxLines - 1] = last;
  return { ...layout!, lines: kept };
}

/**
 * Estimated advance of a text in DejaVu Sans Bold, em, on the safe side: capitals 0.84 (M, W
 * wider: 1.1), most small letters 0.7, narrow ones (i, l, t, f, r …) 0.5, digits 0.72, spaces
 * 0.35, anything else 0.6. Marks are part of their letter (NFC).
 */
export function textWidthEm(text: string): number {
  let em = 0;
  for (const char of text.normalize('NFC')) {
    const base = char.normalize('NFD')[0]!;
    if (/\s/u.test(base)) em += 0.35;
    else if (/[MWmwƯư]/u.test(base) || /[Œœ]/u.test(char)) em += 1.1;
    else if (/[ijlItfr.,:;'!|]/u.test(base)) em += 0.5;
    else if (/\p{Lu}/u.test(base)) em += 0.84;
    else if (/\p{Ll}/u.test(base)) em += 0.7;
    else if (/\p{Nd}/u.test(base)) em += 0.72;
    else em += 0.6;
  }
  return em;
}

/** Greedy lines of at most `maxEm` each ({@link textWidthEm}); a word wider than a line gets a line of its own. */
function wrapByWidth(words: string[], maxEm: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of words) {
    const candidate = current ? `${current} ${word}` : word;
    if (current && textWidthEm(candidate) > maxEm) {
      lines.push(current);
      current = word;
    } else {
      current = candidate;
    }
  }
  if (current) lines.push(current);
  return lines;
}

/**
 * The same number of lines with widths as even as they go: the narrowest width that still wraps
 * the whole title in `count` lines (so "Sự tích Hồ Ba / Bể" becomes "Sự tích / Hồ Ba Bể").
 */
function balanceLines(words: string[], count: number, maxEm: number): string[] {
  let best = wrapByWidth(words, maxEm);
  const widest = Math.max(...words.map(textWidthEm));
  for (let width = maxEm - 0.25; width >= widest; width -= 0.25) {
    const lines = wrapByWidth(words, width);
    if (lines.length > count) break;
    best = lines;
  }
  return best;
}

/** Colours and text files of a title drawn by {@link titleTextFilters}. */
export interface TitleTextOptions {
  fontFile: string;
  /** One UTF-8 file per line (`layout.lines`, in order). */
  lineFiles: string[];
  layout: TitleLayout;
  /** Vertical centre of the block of lines, as a share of the frame height. */
  centre: number;
}

/**
 * drawtext filters for the title: one per line, white with a black outline and a soft shadow,
 * centred horizontally, baselines `lineHeight` apart around `centre`.
 */
export function titleTextFilters(options: TitleTextOptions, frameHeight: number): string[] {
  const { layout, lineFiles } = options;
  if (lineFiles.length !== layout.lines.length) throw new Error('titleTextFilters: one file per line');
  const font = escapeFilterValue(options.fontFile);
  const blockHeight = layout.lineHeight * lineFiles.length;
  const top = Math.round(frameHeight * options.centre - blockHeight / 2);
  const border = Math.max(1, Math.round(layout.fontSize / 16));
  const shadow = Math.max(1, Math.round(layout.fontSize / 20));
  // The baseline of each line: its slot's top plus the font's ascent share of the line (0.93 em for DejaVu, centred in the slot).
  return lineFiles.map((file, i) => {
    const baseline = Math.round(top + i * layout.lineHeight + (layout.lineHeight - layout.fontSize * 1.16) / 2 + layout.fontSize * 0.93);
    return (
      `drawtext=fontfile=${font}:textfile=${escapeFilterValue(file)}:expansion=none:fontsize=${layout.fontSize}` +
      `:fontcolor=white:borderw=${border}:bordercolor=black@0.85:shadowcolor=black@0.5:shadowx=${shadow}:shadowy=${shadow}` +
      `:x=(w-text_w)/2:y=${baseline}-ascent`
    );
  });
}

export interface ThumbnailArgsOptions {
  /** The picture (any image ffmpeg reads). */
  imageFile: string;
  width: number;
  height: number;
  title: TitleTextOptions;
  /** JPEG quality, ffmpeg's `-q:v` (2 best … 31 worst). Default 3. */
  quality?: number;
  outFile: string;
}

/**
 * `thumbnail.jpg`: the image covering the frame when its shape is close to it, else fitted over a
 * blurred, darkened copy (as the video's stills), a dark band over the part where the title goes,
 * the title (see {@link titleTextFilters}), one JPEG frame.
 */
export function buildThumbnailArgs(options: ThumbnailArgsOptions): string[] {
  const { width: W, height: H } = options;
  if (!Number.isInteger(W) || !Number.isInteger(H) || W < 64 || H < 64) throw new RangeError(`invalid thumbnail size ${W}x${H}`);
  const quality = options.quality ?? 3;
  const sigma = Math.max(2, Math.round(Math.min(W, H) / 40));
  const factor = `if(lt(abs(log((iw/ih)/${(W / H).toFixed(6)})),0.2),max(${W}/iw,${H}/ih),min(${W}/iw,${H}/ih))`;
  const { layout, centre } = options.title;
  const band = layout.lineHeight * layout.lines.length + 2 * Math.round(layout.fontSize * 0.6);
  const bandTop = Math.max(0, Math.round(H * centre - band / 2));
  const graph = [
    `[0:v]format=rgb24,split=2[bg][fg]`,
    `[bg]scale=${W}:${H}:force_original_aspect_ratio=increase,crop=${W}:${H},gblur=sigma=${sigma},eq=brightness=-0.08:saturation=0.85[b]`,
    `[fg]scale=w=${escapeFilterValue(`iw*${factor}`)}:h=${escapeFilterValue(`ih*${factor}`)}:flags=lanczos,` +
      `crop=w=${escapeFilterValue(`min(iw,${W})`)}:h=${escapeFilterValue(`min(ih,${H})`)}[f]`,
    [
      `[b][f]overlay=x=(W-w)/2:y=(H-h)/2`,
      `drawbox=x=0:y=${bandTop}:w=${W}:h=${Math.min(band, H - bandTop)}:color=black@0.6:t=fill`,
      ...titleTextFilters(options.title, H),
      'format=yuvj420p[out]',
    ].join(','),
  ].join(';');
  return [
    ...FFMPEG_COMMON,
    '-y',
    '-i',
    fileUrl(options.imageFile),
    '-filter_complex',
    graph,
    '-map',
    '[out]',
    '-frames:v',
    '1',
    '-update',
    '1',
    '-c:v',
    'mjpeg',
    '-q:v',
    String(quality),
    '-f',
    'image2',
    fileUrl(options.outFile),
  ];
}

export interface TitleIntroArgsOptions {
  /** The first image's raw yuv420p still at the video size (see buildStillsArgs). */
  still: string;
  width: number;
  height: number;
  fps: number;
  /** Length of the card, frames ({@link planIntro}). */
  frames: number;
  title: TitleTextOptions;
  preset: X264Preset;
  crf: number;
  outFile: string;
}

/**
 * The title card as an H.264 segment encoded like the video's other segments (so the concat
 * demuxer joins them without re-encoding): the first image blurred and dimmed with the title over
 * it, fading in from black over 0.4 s; over its last 0.6 s (at most a third of it) it dissolves
 * into the plain first image, which is where the first segment starts, so the join is invisible.
 */
export function buildTitleIntroArgs(options: TitleIntroArgsOptions): string[] {
  const { width: W, height: H, fps, frames } = options;
  if (!Number.isInteger(frames) || frames < 3) throw new RangeError(`a title card needs at least 3 frames, got ${frames}`);
  const seconds = (n: number) => (n / fps).toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
  const dissolve = Math.max(1, Math.min(Math.round(0.6 * fps), Math.floor(frames / 3)));
  const fadeIn = Math.max(1, Math.min(Math.round(0.4 * fps), Math.floor(frames / 3)));
  // The dissolve ends one frame before the card does: its last frame is the plain image.
  const offset = frames - dissolve - 1;
  const sigma = Math.max(2, Math.round(Math.min(W, H) / 50));
  const graph = [
    `[0:v]settb=1/${fps},setpts=N[a]`,
    `[1:v]settb=1/${fps},setpts=N[b]`,
    [`[a]gblur=sigma=${sigma}`, 'eq=brightness=-0.22:saturation=0.8', ...titleTextFilters(options.title, H)].join(',') + '[t]',
    `[t][b]xfade=transition=fade:duration=${seconds(dissolve)}:offset=${seconds(Math.max(0, offset))},` +
      `fade=t=in:st=0:d=${seconds(fadeIn)},format=yuv420p[out]`,
  ].join(';');
  // The still twice (the card and the plain image), each looped long enough; no frame is buffered.
  const still = ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-video_size', `${W}x${H}`, '-framerate', String(fps), '-stream_loop', String(frames), '-i', fileUrl(options.still)];
  return [
    ...FFMPEG_COMMON,
    '-y',
    ...still,
    ...still,
    '-filter_complex',
    graph,
    '-map',
    '[out]',
    '-frames:v',
    String(frames),
    ...x264OutputArgs(options.preset, options.crf, fps),
    fileUrl(options.outFile),
  ];
}
