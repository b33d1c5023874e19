import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fontFamilyName } from '../../../src/media/font-name.js';
import {
  buildConcatList,
  buildMuxArgs,
  buildSegmentArgs,
  buildSegmentFilterGraph,
  buildStillsArgs,
  cameraEdgeExpression,
  cameraPath,
  planSegments,
  planSlides,
  trackLanguage,
  videoSize,
} from '../../../src/media/video.js';

describe('video sizes', () => {
  it('has the two presets, scaled to even sizes', () => {
    expect(videoSize('16:9')).toEqual({ width: 1920, height: 1080 });
    expect(videoSize('9:16')).toEqual({ width: 1080, height: 1920 });
    expect(videoSize('16:9', 0.25)).toEqual({ width: 480, height: 270 });
    expect(videoSize('9:16', 0.3)).toEqual({ width: 324, height: 576 });
    expect(() => videoSize('16:9', 0)).toThrow(RangeError);
  });
});

describe('slides', () => {
  it('puts each image change on the nearest frame, with a crossfade centred on it', () => {
    const plan = planSlides(
      [
        { image: 0, startMs: 0 },
        { image: 1, startMs: 4000 },
        { image: 2, startMs: 10_020 },
      ],
      15_000,
      25,
      600,
    );
    expect(plan.totalFrames).toBe(375);
    expect(plan.slides).toEqual([
      { image: 0, startFrame: 0, endFrame: 108, fadeInFrames: 0, boundaryFrame: 0 },
      { image: 1, startFrame: 93, endFrame: 259, fadeInFrames: 15, boundaryFrame: 100 },
      { image: 2, startFrame: 244, endFrame: 375, fadeInFrames: 15, boundaryFrame: 251 },
    ]);
  });

  it('leaves out an image with almost no time, and shortens fades for short images', () => {
    const plan = planSlides(
      [
        { image: 0, startMs: 0 },
        { image: 1, startMs: 1000 },
        { image: 2, startMs: 1100 },
        { image: 3, startMs: 1500 },
      ],
      3000,
      25,
      600,
    );
    // Images 1 (0.1 s) and 2 (0.4 s) are shorter than a crossfade plus two frames.
    expect(plan.slides.map((s) => s.image)).toEqual([0, 3]);
    for (const [i, slide] of plan.slides.entries()) {
      if (i > 0) expect(slide.startFrame).toBeLessThan(plan.slides[i - 1]!.endFrame);
      expect(slide.endFrame - slide.startFrame).toBeGreaterThan(slide.fadeInFrames);
    }
    expect(plan.slides.at(-1)!.endFrame).toBe(75);
  });

  it('shows one image for the whole narration', () => {
    expect(planSlides([{ image: 0, startMs: 0 }], 2000, 30, 500)).toEqual({
      fps: 30,
      totalFrames: 60,
      slides: [{ image: 0, startFrame: 0, endFrame: 60, fadeInFrames: 0, boundaryFrame: 0 }],
    });
  });
});

describe('camera (Ken Burns)', () => {
  const plan = planSlides(
    Array.from({ length: 9 }, (_, i) => ({ image: i, startMs: i * 8000 })),
    72_000,
    25,
    600,
  );
  const views = cameraPath(plan);

  it('keeps the frame shape and stays inside the picture, zooming gently', () => {
    expect(views).toHaveLength(10);
    expect(views[0]).toEqual({ frame: 0, left: 0, right: 1, top: 0, bottom: 1 });
    for (const view of views) {
      expect(view.left).toBeGreaterThanOrEqual(0);
      expect(view.top).toBeGreaterThanOrEqual(0);
      expect(view.right).toBeLessThanOrEqual(1);
      expect(view.bottom).toBeLessThanOrEqual(1);
      expect(view.right - view.left).toBeCloseTo(view.bottom - view.top, 9);
      expect(1 / (view.right - view.left)).toBeLessThanOrEqual(1.12 + 1e-9);
    }
    // Alternately in and out.
    expect(views[1]!.right - views[1]!.left).toBeLessThan(1);
    expect(views[2]!.right - views[2]!.left).toBe(1);
  });

  it('zooms by at most 1.2 % a second, however short the image', () => {
    const short = planSlides(
      Array.from({ length: 6 }, (_, i) => ({ image: i, startMs: i * 1000 })),
      6000,
      25,
      300,
    );
    const path = cameraPath(short);
    for (let k = 1; k < path.length; k++) {
      const zoom = (v: (typeof path)[number]) => 1 / (v.right - v.left);
      const seconds = (path[k]!.frame - path[k - 1]!.frame) / 25;
      expect(Math.abs(zoom(path[k]!) - zoom(path[k - 1]!))).toBeLessThanOrEqual(0.012 * seconds + 1e-9);
    }
  });

  it('moves smoothly: the edge expression follows a smoothstep between views, by global frame', () => {
    const expression = cameraEdgeExpression(views, 'left', 1920, 0, 0, 400);
    // Only the pieces that touch frames 0–399, and perspective counts frames from 1.
    expect(expression.match(/if\(/g)).toHaveLength(1);
    expect(expression).toContain('(in-1)');
    const evaluate = (frame: number) => {
      const a = views[frame < 200 ? 0 : 1]!;
      const b = views[frame < 200 ? 1 : 2]!;
      const p = (frame - a.frame) / (b.frame - a.frame);
      return (a.left + (b.left - a.left) * p * p * (3 - 2 * p)) * 1920;
    };
    // A hand evaluation of the same formula at the frame where the pieces meet is continuous.
    expect(evaluate(199.999)).toBeCloseTo(evaluate(200), 3);
    expect(cameraEdgeExpression(views, 'top', 1080, 400, 400, 600)).toContain('(in+399)');
  });
});

describe('segments', () => {
  const plan = planSlides(
    Array.from({ length: 14 }, (_, i) => ({ image: i, startMs: i * 5000 })),
    70_000,
    25,
    600,
  );

  it('cuts in the middle of an image alone on screen and covers every frame once', () => {
    const segments = planSegments(plan, 6);
    expect(segments.length).toBe(3);
    expect(segments[0]!.startFrame).toBe(0);
    expect(segments.at(-1)!.endFrame).toBe(plan.totalFrames);
    for (let i = 1; i < segments.length; i++) {
      const cut = segments[i]!.startFrame;
      expect(cut).toBe(segments[i - 1]!.endFrame);
      // Never inside a crossfade.
      for (const slide of plan.slides.slice(1)) {
        expect(cut < slide.startFrame || cut >= slide.startFrame + slide.fadeInFrames).toBe(true);
      }
    }
    for (const segment of segments) {
      expect(segment.slides.length).toBeLessThanOrEqual(6);
      expect(segment.slides[0]!.offset).toBe(0);
      expect(segment.slides[0]!.fadeInFrames).toBe(0);
      const last = segment.slides.at(-1)!;
      expect(last.offset + last.frames).toBe(segment.endFrame - segment.startFrame);
    }
  });
});

describe('ffmpeg arguments for the video', () => {
  const odd = `/tmp/it's "odd": [dir], ok`;
  const plan = planSlides(
    [
      { image: 0, startMs: 0 },
      { image: 1, startMs: 3000 },
    ],
    6000,
    25,
    600,
  );
  const [segment] = planSegments(plan);
  const options = {
    segment: segment!,
    stills: [`${odd}/a.yuv`, `${odd}/b.yuv`],
    width: 480,
    height: 270,
    fps: 25,
    camera: cameraPath(plan),
    burnIn: { assFile: `${odd}/subs: 'x'.ass`, fontsDir: `${odd}/fonts` },
    preset: 'veryfast' as const,
    crf: 23,
    outFile: `${odd}/segment.mp4`,
  };

  it('keeps paths whole: file: URLs as arguments, escaped inside the filter graph and the concat list', () => {
    const args = buildSegmentArgs({ ...options, filterScript: `${odd}/graph.txt` });
    expect(args).toContain(`file:${odd}/a.yuv`);
    expect(args).toContain(`file:${odd}/graph.txt`);
    expect(args.slice(args.indexOf('-c:v'), args.indexOf('-c:v') + 4)).toEqual(['-c:v', 'libx264', '-preset', 'veryfast']);
    const graph = buildSegmentFilterGraph(options);
    expect(graph).toContain('xfade=transition=fade:duration=0.6:offset=2.7');
    expect(graph).toContain(String.raw`subtitles=filename=/tmp/it\\\'s "odd"\\: \[dir\]\, ok/subs\\: \\\'x\\\'.ass:fontsdir=`);
    expect(graph).toMatch(/perspective=x0=.*:eval=frame/);
    expect(buildConcatList([`${odd}/s1.mp4`])).toBe(`ffconcat version 1.0\nfile 'file:/tmp/it'\\''s "odd": [dir], ok/s1.mp4'\n`);
    const stills = buildStillsArgs({ images: [`${odd}/i.png`], outFiles: [`${odd}/i.yuv`], width: 480, height: 270 });
    expect(stills).toEqual(expect.arrayContaining([`file:${odd}/i.png`, `file:${odd}/i.yuv`, '-frames:v', 'rawvideo']));
  });

  it('muxes H.264, AAC and mov_text with faststart, cut to the narration', () => {
    const args = buildMuxArgs({
      concatList: `${odd}/list`,
      narrationFile: `${odd}/n.mp3`,
      subtitlesFile: `${odd}/s.srt`,
      durationMs: 6001,
      language: trackLanguage('vi'),
      title: "Sự tích: 'hồ'",
      audioBitrateKbps: 160,
      outFile: `${odd}/v.mp4`,
    });
    const joined = args.join(' ');
    expect(joined).toContain('-c:v copy -c:a aac -b:a 160k -c:s mov_text');
    expect(joined).toContain('-metadata:s:s:0 language=vie');
    expect(joined).toContain('-t 6.001 -movflags +faststart');
    expect(args).toContain("title=Sự tích: 'hồ'");
    expect(trackLanguage('en-GB')).toBe('eng');
    expect(trackLanguage('xx')).toBe('und');
  });
});

describe('font family name', () => {
  it('reads the name libass matches against', () => {
    expect(fontFamilyName(readFileSync('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'))).toBe('DejaVu Sans');
    expect(fontFamilyName(new Uint8Array([1, 2, 3]))).toBeUndefined();
  });
});
