import { describe, expect, it } from 'vitest';

import {
  buildSoundtrackArgs,
  DUCKING_RATIO,
  duckingThreshold,
  musicFades,
  musicGainDb,
  parseAudioProbe,
  SIDECHAIN_SPEECH_LEVEL_DB,
} from '../../../src/media/soundtrack.js';
import { buildThumbnailArgs, buildTitleIntroArgs, fitTitle, planIntro, textWidthEm, titleTextFilters } from '../../../src/media/title-card.js';
import { buildMuxArgs } from '../../../src/media/video.js';
import { assHeader, assTime, captionMargin, groupWords, resolveCaptionStyle, toShortsAss } from '../../../src/media/captions.js';

const graphOf = (args: string[]) => args[args.indexOf('-filter_complex') + 1]!;

describe('music level and ducking', () => {
  it('puts the threshold where a ratio-20 compressor takes the asked dB off speech at the sidechain level', () => {
    for (const ducking of [6, 12, 20]) {
      const thresholdDb = 20 * Math.log10(duckingThreshold(ducking));
      const reduction = (SIDECHAIN_SPEECH_LEVEL_DB - thresholdDb) * (1 - 1 / DUCKING_RATIO);
      expect(reduction).toBeCloseTo(ducking, 6);
    }
    expect(duckingThreshold(0)).toBe(1);
    expect(() => duckingThreshold(31)).toThrow(/0–30 dB/);
    expect(() => duckingThreshold(-1)).toThrow(RangeError);
  });

  it('aims the music at the narration loudness plus the volume', () => {
    expect(musicGainDb(-16, -9.5, -14)).toBe(-20.5);
    expect(musicGainDb(-16, -40, 0)).toBe(24);
    expect(musicGainDb(-16, Number.NEGATIVE_INFINITY, -14)).toBe(0);
  });

  it('fades 1.5 s in and 3 s out, never more than a quarter of a short track each', () => {
    expect(musicFades(60_000)).toEqual({ inMs: 1500, outMs: 3000 });
    expect(musicFades(4000)).toEqual({ inMs: 1000, outMs: 1000 });
  });
});

describe('soundtrack arguments', () => {
  it('delays the narration by exact samples, loops and ducks the music under it', () => {
    const args = buildSoundtrackArgs({
      narrationFile: '/tmp/a b/narration.mp3',
      narrationStartMs: 1800,
      musicFile: "/tmp/it's/music.ogg",
      musicGainDb: -20.5,
      duckingDb: 12,
      durationMs: 11_800,
      sampleRate: 44_100,
      outFile: '/tmp/out.wav',
    });
    // The music is read in an endless loop, as its own input; paths are single arguments.
    expect(args.slice(args.indexOf('-stream_loop'), args.indexOf('-stream_loop') + 4)).toEqual(['-stream_loop', '-1', '-i', "file:/tmp/it's/music.ogg"]);
    expect(args).toContain('file:/tmp/a b/narration.mp3');
    const graph = graphOf(args);
    expect(graph).toContain('adelay=delays=79380S:all=1');
    expect(graph).toContain('apad=whole_len=520380,atrim=end_sample=520380');
    expect(graph).toContain('atrim=end_sample=520380,volume=-20.50dB,afade=t=in:st=0:d=1.500,afade=t=out:st=8.850:d=2.950');
    // The voice is the sidechain: [music][sidechain]sidechaincompress, then summed without normalising.
    expect(graph).toMatch(/\[key\]volume=24dB,alimiter=[^;]*\[sidechain\]/);
    expect(graph).toContain(`[music][sidechain]sidechaincompress=threshold=${duckingThreshold(12).toPrecision(4)}:ratio=20`);
    expect(graph).toContain('[speech][ducked]amix=inputs=2:normalize=0:duration=first[out]');
    expect(args.slice(-9)).toEqual(['-ar', '44100', '-ac', '2', '-c:a', 'pcm_s16le', '-f', 'wav', 'file:/tmp/out.wav']);
  });

  it('mixes the spoken title in and, without music, is the voice alone', () => {
    const args = buildSoundtrackArgs({
      narrationFile: '/n.mp3',
      narrationStartMs: 2400,
      titleSpeechFile: '/t.wav',
      titleSpeechStartMs: 300,
      durationMs: 5000,
      sampleRate: 48_000,
      outFile: '/o.wav',
    });
    const graph = graphOf(args);
    expect(args).not.toContain('-stream_loop');
    expect(graph).toContain('[1:a]aresample=48000');
    expect(graph).toContain('adelay=delays=14400S:all=1[title]');
    expect(graph).toContain('[title][narration]amix=inputs=2:normalize=0:duration=longest[voiced]');
    expect(graph).not.toContain('sidechaincompress');
    expect(() => buildSoundtrackArgs({ narrationFile: '/n', narrationStartMs: 0, durationMs: 0, sampleRate: 44_100, outFile: '/o' })).toThrow(RangeError);
  });
});

describe('audio probe', () => {
  const probe = (format: string, streams: object[]) => JSON.stringify({ format: { format_name: format, duration: '12.5' }, streams });
  it('names the accepted containers and counts real video streams', () => {
    expect(parseAudioProbe(probe('mp3', [{ codec_type: 'audio', codec_name: 'mp3' }, { codec_type: 'video', codec_name: 'mjpeg' }]))).toMatchObject({
      format: 'mp3',
      codec: 'mp3',
      videoStreams: 0,
      durationMs: 12_500,
    });
    expect(parseAudioProbe(probe('mov,mp4,m4a,3gp,3g2,mj2', [{ codec_type: 'audio', codec_name: 'aac' }])).format).toBe('m4a');
    expect(parseAudioProbe(probe('mov,mp4,m4a,3gp,3g2,mj2', [{ codec_type: 'video', codec_name: 'h264' }])).videoStreams).toBe(1);
    expect(parseAudioProbe(probe('flac', [{ codec_type: 'audio', codec_name: 'flac' }])).format).toBeUndefined();
    expect(parseAudioProbe(probe('png_pipe', [{ codec_type: 'video', codec_name: 'png' }])).codec).toBeUndefined();
  });
});

describe('title card', () => {
  it('lasts 1.8 s, or the spoken title with room around it, in whole frames', () => {
    expect(planIntro(25)).toEqual({ frames: 45, durationMs: 1800 });
    expect(planIntro(30, 2000)).toEqual({ frames: 84, durationMs: 2800 });
    expect(planIntro(24, 20_000).durationMs).toBe(6000);
    const odd = planIntro(24);
    expect(odd.durationMs).toBeCloseTo((odd.frames * 1000) / 24, 9);
  });

  it('wraps a long title in at most three lines that fit the frame, smaller type before an ellipsis', () => {
    const short = fitTitle('Thánh Gióng', 1280, 720);
    expect(short.lines).toEqual(['Thánh Gióng']);
    expect(short.fontSize).toBe(72);
    const long = fitTitle('Sự tích Hồ Ba Bể và những chuyện kể ở vùng núi Bắc Kạn ngày xưa', 1280, 720);
    expect(long.lines.length).toBeLessThanOrEqual(3);
    expect(long.lines.join(' ')).toBe('Sự tích Hồ Ba Bể và những chuyện kể ở vùng núi Bắc Kạn ngày xưa');
    for (const line of long.lines) expect(textWidthEm(line) * long.fontSize).toBeLessThanOrEqual(1280 - 2 * long.margin);
    const endless = fitTitle('word '.repeat(80), 1080, 1920);
    expect(endless.lines.at(-1)).toMatch(/…$/);
    expect(() => fitTitle('  ', 1280, 720)).toThrow(RangeError);
  });

  it('draws each line centred on its own baseline, 1.45 em apart', () => {
    const layout = fitTitle('Ông Gióng lớn nhanh như thổi', 1080, 1920);
    const filters = titleTextFilters({ fontFile: '/f.ttf', lineFiles: layout.lines.map((_, i) => `/l${i}.txt`), layout, centre: 0.5 }, 1920);
    expect(filters).toHaveLength(layout.lines.length);
    const baselines = filters.map((f) => Number(/:y=(\d+)-ascent/.exec(f)![1]));
    for (let i = 1; i < baselines.length; i++) expect(baselines[i]! - baselines[i - 1]!).toBe(layout.lineHeight);
    expect(filters[0]).toContain('x=(w-text_w)/2');
    expect(filters[0]).toContain('expansion=none');
  });

  it('renders the thumbnail as one JPEG with the title on a band', () => {
    const layout = fitTitle('Hồ Ba Bể', 1280, 720);
    const args = buildThumbnailArgs({
      imageFile: '/img/001.png',
      width: 1280,
      height: 720,
      title: { fontFile: '/f.ttf', lineFiles: ['/l.txt'], layout, centre: 0.72 },
      outFile: '/out/thumbnail.jpg',
    });
    const graph = graphOf(args);
    expect(graph).toContain('drawbox=x=0:y=');
    expect(graph).toContain('format=yuvj420p[out]');
    expect(args.slice(-11, -1)).toEqual(['-frames:v', '1', '-update', '1', '-c:v', 'mjpeg', '-q:v', '3', '-f', 'image2']);
    expect(args.at(-1)).toBe('file:/out/thumbnail.jpg');
  });

  it('encodes the card like the other segments, ending on the plain first image', () => {
    const layout = fitTitle('Hồ Ba Bể', 216, 384);
    const args = buildTitleIntroArgs({
      still: '/w/still-0.yuv',
      width: 216,
      height: 384,
      fps: 25,
      frames: 45,
      title: { fontFile: '/f.ttf', lineFiles: ['/l.txt'], layout, centre: 0.5 },
      preset: 'veryfast',
      crf: 23,
      outFile: '/w/intro.mp4',
    });
    const graph = graphOf(args);
    // 15-frame dissolve ends one frame before the card does.
    expect(graph).toContain('xfade=transition=fade:duration=0.6:offset=1.16');
    expect(graph).toContain('fade=t=in:st=0:d=0.4');
    expect(args.join(' ')).toContain('-frames:v 45 -c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p -profile:v high -g 100 -r 25 -an -f mp4');
    expect(() => buildTitleIntroArgs({ still: '/s', width: 216, height: 384, fps: 25, frames: 2, title: { fontFile: '/f', lineFiles: ['/l'], layout, centre: 0.5 }, preset: 'veryfast', crf: 23, outFile: '/o' })).toThrow(RangeError);
  });

  it('shifts the soft subtitles behind the title card in the mux', () => {
    const args = buildMuxArgs({ concatList: '/l', narrationFile: '/s.mp3', subtitlesFile: '/s.srt', subtitlesOffsetMs: 1800, durationMs: 9800, audioBitrateKbps: 160, outFile: '/v.mp4' });
    expect(args.join(' ')).toContain('-itsoffset 1.800 -f srt -i file:/s.srt');
    expect(args.join(' ')).toContain('-t 9.800');
  });
});

describe('caption position', () => {
  it('keeps shorts captions off the middle, where card images draw their text', () => {
    const style = resolveCaptionStyle({ preset: 'shorts' });
    expect(style.position).toBe('bottom');
    for (const [width, height] of [[1080, 1920], [1920, 1080]] as const) {
      const header = assHeader({ width, height, fontName: 'DejaVu Sans' }, style).find((line) => line.startsWith('Style: Default'))!.split(',');
      const [fontSize, outline, alignment, marginV] = [Number(header[2]), Number(header[16]), Number(header[18]), Number(header[21])];
      expect(alignment).toBe(2);
      // A group (at most 22 characters) wraps to two lines in a portrait frame and fits one line in a landscape one.
      const lines = Math.ceil((22 * fontSize * 0.55) / (width * 0.9));
      const captionTop = height - marginV - lines * (fontSize * 1.25 + 2 * outline);
      // A 16:9 card fitted in a 9:16 frame fills the middle band; in a 16:9 frame its body (at most
      // 6 lines of 56 px with 16 px between, at 720 px) is centred.
      const cardTextBottom = width < height ? (height + (width * 9) / 16) / 2 : (height + ((6 * 72) / 720) * height) / 2;
      expect(captionTop).toBeGreaterThan(cardTextBottom);
      expect(height - marginV).toBeLessThan(height * (width < height ? 0.81 : 0.95));
    }
    expect(captionMargin('middle', 1080, 1920)).toBe(0);
    expect(captionMargin('top', 1080, 1920)).toBe(0.06);
  });
});

describe('title lines', () => {
  it('balances the lines instead of leaving one word alone', () => {
    expect(fitTitle('Sự tích Hồ Ba Bể', 270, 480).lines).toEqual(['Sự tích', 'Hồ Ba Bể']);
    expect(fitTitle('Thánh Gióng', 1280, 720).lines).toEqual(['Thánh Gióng']);
  });
});

describe('title lines with long words', () => {
  it('never cuts a word to balance lines', () => {
    const lines = fitTitle('Supercalifragilistic tale', 640, 360).lines;
    expect(lines.join(' ')).toBe('Supercalifragilistic tale');
  });
});

describe('shorts highlight times', () => {
  it('lights a word on the first frame at or after its timing, never the frame before', () => {
    // 3044.9 ms lies in frame 77 at 25 fps (3040–3080 ms); rounding to 3.04 s would light it on frame 76.
    const words = [
      { text: 'Một', startMs: 2600, endMs: 3000 },
      { text: 'hai', startMs: 3044.9, endMs: 3400 },
    ];
    const ass = toShortsAss(groupWords(words, { durationMs: 5000 }), { width: 270, height: 480, fontName: 'DejaVu Sans' }, resolveCaptionStyle({ preset: 'shorts' }));
    const events = ass.split('\n').filter((line) => line.startsWith('Dialogue:'));
    expect(events[0]).toMatch(/^Dialogue: 0,0:00:02\.60,0:00:03\.05,/);
    expect(events[1]).toMatch(/^Dialogue: 0,0:00:03\.05,/);
    expect(assTime(3044.9)).toBe('0:00:03.04');
    expect(assTime(3040, true)).toBe('0:00:03.04');
  });
});
