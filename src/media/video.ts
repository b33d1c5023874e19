/**
 * The video: pure planning (which image is on screen for which frames, the camera path, the
 * render segments) and pure ffmpeg argument builders. {@link MediaRepository.renderVideo} runs them.
 *
 * How a video is made (ffmpeg 5.1):
 *
 * 1. **Stills.** Each image becomes one raw yuv420p frame at the output size: scaled to cover
 *    the frame when its shape is close to the frame's (cropping a little), otherwise fitted
 *    inside it over a blurred, darkened copy of itself (a 16:9 card in a 9:16 video).
 * 2. **Segments.** The frames are rendered in segments of a few images each (every ffmpeg input
 *    holds about nine frames in memory, so one run with every image would need gigabytes). A
 *    segment reads its stills as looped raw frames, joins them with `xfade` crossfades centred on
 *    the moments the images change, moves a virtual camera over the result with `perspective`
 *    (sub-pixel, bilinear: smooth where `zoompan` jitters by whole pixels), optionally burns the
 *    subtitles in with libass, and encodes H.264. Segments are cut in the middle of an image,
 *    never inside a crossfade, and the camera path is a function of the frame number in the whole
 *    video, so the joins are invisible.
 * 3. **Mux.** The segments are joined without re-encoding (concat demuxer) with the narration
 *    (AAC) and the subtitles as a soft `mov_text` track, `+faststart`.
 *
 * Every path is an argument of its own (`file:` URLs) or, inside the filter graph and the concat
 * list, escaped for it, so spaces, quotes, colons and brackets in paths are safe.
 */

import { escapeFilterValue, FFMPEG_COMMON, fileUrl } from './ffmpeg-args.js';
import type { X264Preset } from '../shared/video-encoding.js';


/** The two frame shapes a video is made in. */
export const VIDEO_ASPECTS = ['16:9', '9:16'] as const;
export type VideoAspect = (typeof VIDEO_ASPECTS)[number];

/** Full-size frame of each shape, pixels. */
export const VIDEO_PRESETS: Readonly<Record<VideoAspect, { width: number; height: number }>> = {
  '16:9': { width: 1920, height: 1080 },
  '9:16': { width: 1080, height: 1920 },
};

/** The frame size of a shape at a scale (1 = full size), even numbers as H.264 4:2:0 needs. */
export function videoSize(aspect: VideoAspect, scale = 1): { width: number; height: number } {
  const preset = VIDEO_PRESETS[aspect];
  if (!(scale > 0 && scale <= 1)) throw new RangeError(`video scale must be in (0, 1], got ${scale}`);
  const even = (n: number) => Math.max(16, 2 * Math.round((n * scale) / 2));
  return { width: even(preset.width), height: even(preset.height) };
}

// ---------------------------------------------------------------------------------------------
// Slides: which image is on screen for which frames
// ---------------------------------------------------------------------------------------------

export interface SlideInput {
  /** Index of the image (into the caller's list). */
  image: number;
  /** When the image takes over (the first image: 0), ms. */
  startMs: number;
}

export interface Slide {
  image: number;
  /** First frame on screen (the start of the crossfade from the previous slide). */
  startFrame: number;
  /** One past the last frame on screen (the end of the crossfade to the next slide). */
  endFrame: number;
  /** Frames of the crossfade from the previous slide (0 for the first). */
  fadeInFrames: number;
  /** The frame at which this image takes over: the middle of its fade-in (0 for the first). */
  boundaryFrame: number;
}

export interface SlidePlan {
  fps: number;
  totalFrames: number;
  slides: Slide[];
}

/**
 * Plans the slides: image k takes over at the frame nearest its start time, with a crossfade of
 * `crossfadeMs` centred there (shortened where images are short). An image whose time on screen
 * would be shorter than a crossfade plus two frames is left out (its time goes to its
 * neighbours), so every image that is shown can be seen.
 */
export function planSlides(inputs: SlideInput[], durationMs: number, fps: number, crossfadeMs: number): SlidePlan {
  if (!inputs.length) throw new Error('planSlides: no images');
  if (!(fps > 0)) throw new RangeError(`planSlides: fps must be > 0, got ${fps}`);
  const totalFrames = Math.max(1, Math.round((durationMs * fps) / 1000));
  const fade = Math.max(0, Math.round((crossfadeMs * fps) / 1000));
  const minFrames = Math.max(2, fade + 2);

  let kept = inputs.map((input, k) => ({
    image: input.image,
    boundary: k === 0 ? 0 : Math.min(totalFrames, Math.max(0, Math.round((input.startMs * fps) / 1000))),
  }));
  // Monotonic boundaries.
  for (let k = 1; k < kept.length; k++) kept[k]!.boundary = Math.max(kept[k]!.boundary, kept[k - 1]!.boundary);
  const span = (k: number) => (k + 1 < kept.length ? kept[k + 1]!.boundary : totalFrames) - kept[k]!.boundary;
  // Leave out the shortest image while one is too short; its neighbours meet in its middle.
  while (kept.length > 1) {
    let shortest = 0;
    for (let k = 1; k < kept.length; k++) if (span(k) < span(shortest)) shortest = k;
    if (span(shortest) >= minFrames) break;
    const middle = Math.round(kept[shortest]!.boundary + span(shortest) / 2);
    kept = kept.filter((_, k) => k !== shortest);
    if (shortest > 0 && shortest < kept.length) kept[shortest]!.boundary = middle;
    if (kept.length) kept[0]!.boundary = 0;
  }

  const fades = kept.map((_, k) => (k === 0 ? 0 : Math.min(fade, Math.floor(Math.min(span(k - 1), span(k)) / 2))));
  const starts = kept.map((slide, k) => (k === 0 ? 0 : slide.boundary - Math.floor(fades[k]! / 2)));
  const slides = kept.map((slide, k) => ({
    image: slide.image,
    startFrame: starts[k]!,
    endFrame: k + 1 < kept.length ? starts[k + 1]! + fades[k + 1]! : totalFrames,
    fadeInFrames: fades[k]!,
    boundaryFrame: slide.boundary,
  }));
  return { fps, totalFrames, slides };
}

// ---------------------------------------------------------------------------------------------
// The camera (Ken Burns)
// ---------------------------------------------------------------------------------------------

/** What the camera sees at a moment: a rectangle of the frame, as fractions (0–1), the frame's shape. */
export interface CameraView {
  frame: number;
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Points the camera drifts towards when it zooms in (fractions of the frame). */
const ANCHORS: readonly [number, number][] = [
  [0.42, 0.42],
  [0.58, 0.46],
  [0.46, 0.58],
  [0.56, 0.55],
  [0.5, 0.4],
  [0.4, 0.55],
];

/** Zoom at most this much per image, and at most this much per second (gentle). */
const MAX_ZOOM_STEP = 0.12;
const ZOOM_PER_SECOND = 0.012;

/**
 * The camera path: one view at every slide boundary (and at the end); in between the camera moves
 * with an ease-in-out (smoothstep), so it is still while one image dissolves into the next.
 * Images alternately zoom in towards a point and back out, by at most {@link MAX_ZOOM_STEP} in all
 * and at most {@link ZOOM_PER_SECOND} per second of the image.
 */
export function cameraPath(plan: SlidePlan): CameraView[] {
  const frames = [...plan.slides.map((s) => s.boundaryFrame), plan.totalFrames];
  const views: CameraView[] = [];
  let zoom = 1;
  let cx = 0.5;
  let cy = 0.5;
  frames.forEach((frame, k) => {
    if (k > 0) {
      const step = (ZOOM_PER_SECOND * (frame - frames[k - 1]!)) / plan.fps;
      if (k % 2 === 1) {
        // In, towards the next anchor.
        zoom = Math.min(1 + MAX_ZOOM_STEP, zoom + step);
        [cx, cy] = ANCHORS[Math.floor(k / 2) % ANCHORS.length]!;
      } else {
        // Out, the centre drifting back as the zoom falls.
        const next = Math.max(1, zoom - step);
        const keep = zoom > 1 ? (next - 1) / (zoom - 1) : 0;
        cx = 0.5 + (cx - 0.5) * keep;
        cy = 0.5 + (cy - 0.5) * keep;
        zoom = next;
      }
    }
    const half = 0.5 / zoom;
    cx = Math.min(1 - half, Math.max(half, cx));
    cy = Math.min(1 - half, Math.max(half, cy));
    views.push({ frame, left: cx - half, right: cx + half, top: cy - half, bottom: cy + half });
  });
  return views;
}

/** A number for an ffmpeg expression: short, never in exponent notation. */
function num(value: number): string {
  const fixed = value.toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
  return fixed === '-0' ? '0' : fixed;
}

/**
 * The expression of one camera edge (`left`, `top` …, times `size` pixels) as a function of the
 * global frame number `in - 1 + offset` (perspective's `in` is 1 on the first frame), for frames `[from, to)`: nested `if(lt(g,K),…)` over the
 * path's pieces, each a smoothstep between two views.
 */
export function cameraEdgeExpression(
  views: CameraView[],
  edge: 'left' | 'top' | 'right' | 'bottom',
  size: number,
  offset: number,
  from: number,
  to: number,
): string {
  // perspective counts its input frames from 1.
  const g = offset === 1 ? 'in' : offset > 1 ? `(in+${offset - 1})` : `(in-${1 - offset})`;
  const pieces: string[] = [];
  const limits: number[] = [];
  for (let k = 0; k + 1 < views.length; k++) {
    const a = views[k]!;
    const b = views[k + 1]!;
    if (b.frame <= from || a.frame >= to || b.frame <= a.frame) continue;
    const va = a[edge] * size;
    const vb = b[edge] * size;
    if (Math.abs(vb - va) < 1e-9) {
      pieces.push(num(va));
    } else {
      const p = `((${g}-${a.frame})/${b.frame - a.frame})`;
      pieces.push(`(${num(va)}+${num(vb - va)}*${p}*${p}*(3-2*${p}))`);
    }
    limits.push(b.frame);
  }
  if (!pieces.length) return num(views.at(-1)![edge] * size);
  let expression = pieces.at(-1)!;
  for (let i = pieces.length - 2; i >= 0; i--) expression = `if(lt(${g},${limits[i]}),${pieces[i]},${expression})`;
  return expression;
}

// ---------------------------------------------------------------------------------------------
// Segments
// ---------------------------------------------------------------------------------------------

export interface SegmentSlide {
  /** The slide's position in the plan. */
  slide: number;
  image: number;
  /** Frames of this slide in the segment. */
  frames: number;
  /** First frame of this slide in the segment, counted from the segment's start. */
  offset: number;
  /** Crossfade from the previous slide of the segment, frames (0 for the segment's first). */
  fadeInFrames: number;
}

export interface Segment {
  /** Global frames `[startFrame, endFrame)`. */
  startFrame: number;
  endFrame: number;
  slides: SegmentSlide[];
}

/**
 * Cuts the plan into segments of at most `maxSlides` slides, each cut in the middle of a slide's
 * time alone on screen (never inside a crossfade).
 */
export function planSegments(plan: SlidePlan, maxSlides = 6): Segment[] {
  const { slides, totalFrames } = plan;
  if (maxSlides < 2) throw new RangeError('planSegments: maxSlides must be at least 2');
  const cuts: number[] = [0];
  // A segment that starts inside slide `first` may take slides first … first + maxSlides − 1 and
  // ends inside the last of them.
  let first = 0;
  while (first + maxSlides < slides.length) {
    const last = first + maxSlides - 1;
    const s = slides[last]!;
    const aloneFrom = s.startFrame + s.fadeInFrames;
    const aloneTo = slides[last + 1]!.startFrame;
    cuts.push(Math.floor((aloneFrom + aloneTo) / 2));
    first = last;
  }
  cuts.push(totalFrames);

  const segments: Segment[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [startFrame, endFrame] = [cuts[i]!, cuts[i + 1]!];
    const parts: SegmentSlide[] = [];
    slides.forEach((slide, index) => {
      const from = Math.max(slide.startFrame, startFrame);
      const to = Math.min(slide.endFrame, endFrame);
      if (to <= from) return;
      parts.push({
        slide: index,
        image: slide.image,
        frames: to - from,
        offset: from - startFrame,
        fadeInFrames: parts.length === 0 ? 0 : slide.fadeInFrames,
      });
    });
    segments.push({ startFrame, endFrame, slides: parts });
  }
  return segments;
}

// ---------------------------------------------------------------------------------------------
// ffmpeg arguments
// ---------------------------------------------------------------------------------------------

export interface StillsArgsOptions {
  /** Image files (any size and shape ffmpeg reads). */
  images: string[];
  /** One raw yuv420p file per image. */
  outFiles: string[];
  width: number;
  height: number;
}

/**
 * One ffmpeg run that turns each image into one raw yuv420p frame of `width`×`height`: the
 * image scaled to cover the frame when the two shapes differ by less than about 20 %, otherwise
 * fitted inside it over a blurred, darkened copy that covers it.
 */
export function buildStillsArgs(options: StillsArgsOptions): string[] {
  const { images, outFiles, width: W, height: H } = options;
  if (!images.length || images.length !== outFiles.length) throw new Error('buildStillsArgs: one output per image');
  const frameRatio = W / H;
  const sigma = Math.max(2, Math.round(Math.min(W, H) / 40));
  // Cover when |ln(image ratio / frame ratio)| < 0.2, else fit.
  const factor = `if(lt(abs(log((iw/ih)/${num(frameRatio)})),0.2),max(${W}/iw,${H}/ih),min(${W}/iw,${H}/ih))`;
  const chains = images.map((_, i) =>
    [
      `[${i}:v]format=rgb24,split=2[bg${i}][fg${i}]`,
      `[bg${i}]scale=${W}:${H}:force_original_aspect_ratio=increase,crop=${W}:${H},gblur=sigma=${sigma},eq=brightness=-0.08:saturation=0.85[b${i}]`,
      `[fg${i}]scale=w=${escapeFilterValue(`iw*${factor}`)}:h=${escapeFilterValue(`ih*${factor}`)}:flags=lanczos,` +
        `crop=w=${escapeFilterValue(`min(iw,${W})`)}:h=${escapeFilterValue(`min(ih,${H})`)}[f${i}]`,
      `[b${i}][f${i}]overlay=x=(W-w)/2:y=(H-h)/2,format=yuv420p[p${i}]`,
    ].join(';'),
  );
  return [
    ...FFMPEG_COMMON,
    '-y',
    ...images.flatMap((file) => ['-i', fileUrl(file)]),
    '-filter_complex',
    chains.join(';'),
    ...outFiles.flatMap((file, i) => ['-map', `[p${i}]`, '-frames:v', '1', '-f', 'rawvideo', fileUrl(file)]),
  ];
}

export interface SegmentArgsOptions {
  segment: Segment;
  /** The raw still of each image (by image index). */
  stills: string[];
  width: number;
  height: number;
  fps: number;
  /** The whole camera path (global frame numbers). */
  camera: CameraView[];
  /** An ASS file to burn in, with the folder of its font. */
  burnIn?: { assFile: string; fontsDir: string };
  preset: X264Preset;
  crf: number;
  outFile: string;
}

/**
 * One segment: looped raw stills, crossfades, the camera, optional burned-in subtitles, H.264.
 * The filter graph goes through `-filter_complex_script` (see {@link buildSegmentFilterGraph}),
 * so its length is never limited by the command line.
 */
export function buildSegmentArgs(options: SegmentArgsOptions & { filterScript: string }): string[] {
  const { segment, stills, width, height, fps } = options;
  return [
    ...FFMPEG_COMMON,
    '-y',
    ...segment.slides.flatMap((part) => [
      '-f',
      'rawvideo',
      '-pix_fmt',
      'yuv420p',
      '-video_size',
      `${width}x${height}`,
      '-framerate',
      String(fps),
      '-stream_loop',
      String(part.frames - 1),
      '-i',
      fileUrl(stills[part.image]!),
    ]),
    '-filter_complex_script',
    fileUrl(options.filterScript),
    '-map',
    '[out]',
    '-frames:v',
    String(segment.endFrame - segment.startFrame),
    ...x264OutputArgs(options.preset, options.crf, fps),
    fileUrl(options.outFile),
  ];
}

/**
 * The encoder settings every segment of a video shares (H.264 high profile, yuv420p, a key frame
 * every 4 s, no sound, MP4), so that the concat demuxer joins segments without re-encoding. The
 * output file follows.
 */
export function x264OutputArgs(preset: X264Preset, crf: number, fps: number): string[] {
  return [
    '-c:v',
    'libx264',
    '-preset',
    preset,
    '-crf',
    String(crf),
    '-pix_fmt',
    'yuv420p',
    '-profile:v',
    'high',
    '-g',
    String(Math.max(1, Math.round(fps * 4))),
    '-r',
    String(fps),
    '-an',
    '-f',
    'mp4',
  ];
}

/** The filter graph of one segment (see {@link buildSegmentArgs}). */
export function buildSegmentFilterGraph(options: SegmentArgsOptions): string {
  const { segment, width, height, fps, camera } = options;
  const chains: string[] = [];
  segment.slides.forEach((_, i) => chains.push(`[${i}:v]settb=1/${fps},setpts=N[s${i}]`));
  let last = 's0';
  segment.slides.forEach((part, i) => {
    if (i === 0) return;
    const seconds = (frames: number) => num(frames / fps);
    chains.push(`[${last}][s${i}]xfade=transition=fade:duration=${seconds(part.fadeInFrames)}:offset=${seconds(part.offset)}[x${i}]`);
    last = `x${i}`;
  });
  const from = segment.startFrame;
  const to = segment.endFrame;
  const edge = (e: 'left' | 'top' | 'right' | 'bottom', size: number) =>
    escapeFilterValue(cameraEdgeExpression(camera, e, size, from, from, to));
  const [l, r, t, b] = [edge('left', width), edge('right', width), edge('top', height), edge('bottom', height)];
  const steps = [
    `perspective=x0=${l}:y0=${t}:x1=${r}:y1=${t}:x2=${l}:y2=${b}:x3=${r}:y3=${b}:interpolation=linear:eval=frame`,
  ];
  if (options.burnIn) {
    // libass times cues by each frame's timestamp: the segment's frames carry their global time while it draws.
    steps.push(
      `setpts=N+${from}`,
      `subtitles=filename=${escapeFilterValue(options.burnIn.assFile)}:fontsdir=${escapeFilterValue(options.burnIn.fontsDir)}`,
      'setpts=N',
    );
  }
  steps.push('format=yuv420p');
  chains.push(`[${last}]${steps.join(',')}[out]`);
  return chains.join(';\n');
}

/** A concat-demuxer list of files (`file 'file:…'`, quotes escaped as `'\''`). */
export function buildConcatList(files: string[]): string {
  return `ffconcat version 1.0\n${files.map((file) => `file '${fileUrl(file).replace(/'/g, "'\\''")}'`).join('\n')}\n`;
}

export interface MuxArgsOptions {
  /** The concat list of the segments (see {@link buildConcatList}). */
  concatList: string;
  /** The sound: the narration, or the soundtrack (narration after the title card, music) when there is one. */
  narrationFile: string;
  /** An SRT file to add as a soft subtitle track (mov_text). */
  subtitlesFile?: string;
  /** The subtitles are timed on the narration; they start this late in the video (the title card), ms. */
  subtitlesOffsetMs?: number;
  /** The video's length, ms: the video is cut to it. */
  durationMs: number;
  /** ISO 639-2 code for the audio and subtitle tracks (`vie`, `eng` …). */
  language?: string;
  title?: string;
  /** An FFMETADATA1 file with the chapters ({@link buildChapterMetadata}). */
  chaptersFile?: string;
  audioBitrateKbps: number;
  outFile: string;
}

/** A chapter of the MP4: from `startMs` to `endMs` on the narration, named `title`. */
export interface Chapter {
  startMs: number;
  endMs: number;
  title: string;
}

/**
 * An FFMETADATA1 text with one chapter per entry (time base 1/1000, so times are ms); `=`, `;`,
 * `#`, `\` and line ends in titles escaped as the format wants. Chapters without time are left out.
 */
export function buildChapterMetadata(chapters: Chapter[]): string {
  const escape = (s: string) => s.replace(/[\\=;#]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
  const blocks = chapters
    .filter((c) => Math.round(c.endMs) > Math.round(c.startMs))
    .map((c) => `[CHAPTER]\nTIMEBASE=1/1000\nSTART=${Math.round(c.startMs)}\nEND=${Math.round(c.endMs)}\ntitle=${escape(c.title)}\n`);
  return `;FFMETADATA1\n${blocks.join('')}`;
}

/** A chapter title from a text: its first `maxWords` words, with `…` when it goes on. */
export function chapterTitle(text: string, maxWords = 6): string {
  const words = text.replace(/[#*_`>]/g, ' ').split(/\s+/u).filter(Boolean);
  return words.length > maxWords ? `${words.slice(0, maxWords).join(' ')}…` : words.join(' ');
}

/**
 * Joins the segments without re-encoding, adds the sound (narration or soundtrack) as AAC, the
 * subtitles as mov_text (shifted by `subtitlesOffsetMs`) and the chapters, `+faststart`.
 */
export function buildMuxArgs(options: MuxArgsOptions): string[] {
  const args = [
    ...FFMPEG_COMMON,
    '-y',
    '-f',
    'concat',
    '-safe',
    '0',
    '-i',
    fileUrl(options.concatList),
    '-i',
    fileUrl(options.narrationFile),
  ];
  if (options.subtitlesFile) {
    if (options.subtitlesOffsetMs) args.push('-itsoffset', (Math.round(options.subtitlesOffsetMs) / 1000).toFixed(3));
    args.push('-f', 'srt', '-i', fileUrl(options.subtitlesFile));
  }
  if (options.chaptersFile) {
    const input = options.subtitlesFile ? 3 : 2;
    args.push('-f', 'ffmetadata', '-i', fileUrl(options.chaptersFile), '-map_chapters', String(input));
  }
  args.push('-map', '0:v:0', '-map', '1:a:0');
  if (options.subtitlesFile) args.push('-map', '2:s:0');
  args.push('-c:v', 'copy', '-c:a', 'aac', '-b:a', `${options.audioBitrateKbps}k`);
  if (options.subtitlesFile) args.push('-c:s', 'mov_text');
  if (options.language) {
    args.push('-metadata:s:a:0', `language=${options.language}`);
    if (options.subtitlesFile) args.push('-metadata:s:s:0', `language=${options.language}`);
  }
  if (options.title) args.push('-metadata', `title=${options.title}`);
  args.push('-t', (Math.round(options.durationMs) / 1000).toFixed(3), '-movflags', '+faststart', '-f', 'mp4', fileUrl(options.outFile));
  return args;
}

/** ISO 639-1 → ISO 639-2/B, for MP4 track languages (unknown → `und`). */
const ISO_639_2: Readonly<Record<string, string>> = {
  vi: 'vie', en: 'eng', fr: 'fre', es: 'spa', de: 'ger', it: 'ita', pt: 'por', zh: 'chi', ja: 'jpn', ko: 'kor',
  ru: 'rus', ar: 'ara', hi: 'hin', th: 'tha', id: 'ind', ms: 'may', nl: 'dut', pl: 'pol', tr: 'tur', uk: 'ukr',
  sv: 'swe', no: 'nor', nb: 'nob', da: 'dan', fi: 'fin', cs: 'cze', el: 'gre', he: 'heb', hu: 'hun', ro: 'rum',
};

export function trackLanguage(language: string | null | undefined): string {
  const primary = (language ?? '').toLowerCase().split(/[-_]/)[0] ?? '';
  return ISO_639_2[primary] ?? 'und';
}
