import { describe, expect, it } from 'vitest';

import {
  buildCardsArgs,
  cardFilters,
  buildDurationProbeArgs,
  buildGainEncodeArgs,
  buildJoinClipsArgs,
  buildLoudnormApplyArgs,
  cardLayout,
  escapeFilterValue,
  fileUrl,
  parseDecodedDurationMs,
  truncateLine,
  wrapCardText,
} from '../../../src/media/ffmpeg-args.js';

const NASTY_DIR = `/tmp/it's a "dir": [x], y; z\\w`;

/** Undoes one av_get_token pass (what ffmpeg's graph parser and option parser each do). */
function unescapeOnce(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) out += value[++i];
    else if (c === "'") {
      const end = value.indexOf("'", i + 1);
      out += value.slice(i + 1, end);
      i = end;
    } else out += c;
  }
  return out;
}

/** Value of `key=` in a drawtext option string, honouring backslash escapes. */
function optionValue(options: string, key: string): string {
  const start = options.indexOf(`${key}=`) + key.length + 1;
  let i = start;
  while (i < options.length && options[i] !== ':') i += options[i] === '\\' ? 2 : 1;
  return options.slice(start, i);
}

describe('fileUrl', () => {
  it('prefixes file: so a colon in a relative name is not read as a protocol', () => {
    expect(fileUrl('a:b.wav')).toBe('file:a:b.wav');
    expect(fileUrl('/x y/z.wav')).toBe('file:/x y/z.wav');
    expect(fileUrl('-')).toBe('-');
  });
});

describe('escapeFilterValue', () => {
  it('escapes for the option parser, then for the graph parser', () => {
    expect(escapeFilterValue('/a b/c.ttf')).toBe('/a b/c.ttf');
    expect(escapeFilterValue('C:/x')).toBe('C\\\\:/x');
    expect(escapeFilterValue("it's")).toBe("it\\\\\\'s");
    expect(escapeFilterValue('a,b;c[d]')).toBe('a\\,b\\;c\\[d\\]');
    expect(escapeFilterValue('a\\b')).toBe('a\\\\\\\\b');
  });

  it('round-trips through two unescaping passes', () => {
    for (const value of [NASTY_DIR, ' lead and trail ', "'''", '::', '\\\\', '%{pts}']) {
      expect(unescapeOnce(unescapeOnce(escapeFilterValue(value)))).toBe(value);
    }
  });
});

describe('buildJoinClipsArgs', () => {
  const clips = [
    { file: `${NASTY_DIR}/one.wav`, durationMs: 1500 },
    { file: '/clips/two.mp3', durationMs: 2000 },
    { file: '/clips/three.wav', durationMs: 1000 },
  ];

  it('takes every clip as one input argument and writes one WAV at the rate asked', () => {
    const args = buildJoinClipsArgs({ clips, outFile: '/out/joined file.wav', pauseMs: 400, sampleRate: 44100 });
    const inputs = args.flatMap((a, i) => (a === '-i' ? [args[i + 1]] : []));
    expect(inputs).toEqual([`file:${NASTY_DIR}/one.wav`, 'file:/clips/two.mp3', 'file:/clips/three.wav']);
    expect(args.slice(-11)).toEqual([
      '-map', '[out]', '-ar', '44100', '-ac', '1', '-c:a', 'pcm_s16le', '-f', 'wav', 'file:/out/joined file.wav',
    ]);
    expect(args).toContain('-nostdin');
    expect(args).not.toContain('concat'); // no concat demuxer
  });

  it('resamples, downmixes, fades each clip and pads exactly pauseMs between clips', () => {
    const args = buildJoinClipsArgs({ clips, outFile: '/o.wav', pauseMs: 400, sampleRate: 44100 });
    const graph = args[args.indexOf('-filter_complex') + 1]!;
    const chains = graph.split(';');
    expect(chains).toHaveLength(4);
    expect(chains[0]).toBe(
      '[0:a:0]aresample=44100,aformat=sample_fmts=fltp:channel_layouts=mono,asetpts=N/SR/TB,' +
        'afade=t=in:st=0:d=0.010,afade=t=out:st=1.490:d=0.010,apad=pad_len=17640[a0]',
    );
    expect(chains[1]).toContain('afade=t=out:st=1.990:d=0.010,apad=pad_len=17640[a1]');
    expect(chains[2]).not.toContain('apad'); // no pause after the last clip
    expect(chains[3]).toBe('[a0][a1][a2]concat=n=3:v=0:a=1[out]');
  });

  it('pads by samples at other rates, skips padding for 0 ms and clamps fades on tiny clips', () => {
    const at24k = buildJoinClipsArgs({ clips, outFile: '/o.wav', pauseMs: 250, sampleRate: 24000 });
    expect(at24k.join(' ')).toContain('apad=pad_len=6000');
    const noPause = buildJoinClipsArgs({ clips, outFile: '/o.wav', pauseMs: 0, sampleRate: 24000 });
    expect(noPause.join(' ')).not.toContain('apad');
    const tiny = buildJoinClipsArgs({ clips: [{ file: '/t.wav', durationMs: 8 }], outFile: '/o.wav', pauseMs: 0, sampleRate: 22050 });
    expect(tiny.join(' ')).toContain('afade=t=in:st=0:d=0.004,afade=t=out:st=0.004:d=0.004');
  });

  it('rejects no clips and odd rates', () => {
    expect(() => buildJoinClipsArgs({ clips: [], outFile: '/o.wav', pauseMs: 0, sampleRate: 44100 })).toThrow(/no clips/);
    expect(() => buildJoinClipsArgs({ clips, outFile: '/o.wav', pauseMs: 0, sampleRate: 44100.5 })).toThrow(/sample rate/);
  });
});

describe('buildLoudnormApplyArgs', () => {
  it('normalises a silent input in one loudnorm pass, resamples back from 192 kHz and encodes MP3', () => {
    const args = buildLoudnormApplyArgs({ inFile: '/in.wav', outFile: "/out/it's: narration.mp3", lufs: -16, truePeakDb: -1.5, sampleRate: 48000, bitrateKbps: 128 });
    expect(args[args.indexOf('-af') + 1]).toBe('loudnorm=I=-16:TP=-1.5:LRA=11,aresample=48000');
    expect(args.slice(args.indexOf('-ar'))).toEqual(['-ar', '48000', '-c:a', 'libmp3lame', '-b:a', '128k', '-f', 'mp3', "file:/out/it's: narration.mp3"]);
  });
});

describe('buildGainEncodeArgs', () => {
  it('applies the gain, limits at the rate given at the ceiling, measures what it encodes and writes MP3', () => {
    const args = buildGainEncodeArgs({
      inFile: '/a b/in.wav', outFile: "/o: 'x'.mp3", gainDb: 24.354, limiter: { ceilingDb: -1.5, rate: 88200 }, sampleRate: 44100, bitrateKbps: 160,
    });
    expect(args[args.indexOf('-filter_complex') + 1]).toBe(
      '[0:a:0]anull[main];' +
        '[main]volume=24.35dB,aresample=88200,alimiter=limit=0.8414:attack=5:release=50:level=false:latency=true,aresample=44100,asplit=2[enc][measure];' +
        '[measure]ebur128@pcm=framelog=verbose[pcm]',
    );
    expect(args.slice(args.indexOf('[enc]') + 1)).toEqual([
      '-ar', '44100', '-c:a', 'libmp3lame', '-b:a', '160k', '-f', 'mp3', "file:/o: 'x'.mp3", '-map', '[pcm]', '-f', 'null', '-',
    ]);
    expect(args).toContain('file:/a b/in.wav');
  });

  it('measures the same chain at a second gain when asked, and leaves the limiter out when not asked', () => {
    const probed = buildGainEncodeArgs({ inFile: '/i.wav', outFile: '/o.mp3', gainDb: 5, limiter: { ceilingDb: -1, rate: 96000 }, probeGainDb: 7, sampleRate: 24000, bitrateKbps: 96 });
    const graph = probed[probed.indexOf('-filter_complex') + 1]!;
    expect(graph).toMatch(/^\[0:a:0\]asplit=2\[main\]\[alt\];/);
    expect(graph).toContain('[alt]volume=7.00dB,aresample=96000,alimiter=limit=0.8913');
    expect(graph).toMatch(/ebur128@probe=framelog=verbose\[probe\]$/);
    expect(probed.slice(-5)).toEqual(['-map', '[probe]', '-f', 'null', '-']);
    const plain = buildGainEncodeArgs({ inFile: '/i.wav', outFile: '/o.mp3', gainDb: -3, sampleRate: 48000, bitrateKbps: 128 });
    expect(plain[plain.indexOf('-filter_complex') + 1]).toContain('[main]volume=-3.00dB,aresample=48000,asplit=2');
    expect(plain.join(' ')).not.toContain('alimiter');
  });

  it('refuses a non-finite gain', () => {
    expect(() => buildGainEncodeArgs({ inFile: '/i', outFile: '/o', gainDb: Infinity, sampleRate: 48000, bitrateKbps: 128 })).toThrow(/finite/);
  });
});

describe('decoded duration', () => {
  it('probes frames of the first audio stream', () => {
    expect(buildDurationProbeArgs('/x: y/z.mp3')).toEqual([
      '-v', 'error', '-select_streams', 'a:0', '-show_entries', 'stream=sample_rate:frame=nb_samples',
      '-of', 'default=noprint_wrappers=1', 'file:/x: y/z.mp3',
    ]);
  });

  it('sums decoded samples (MP3 delay and padding already trimmed by the decoder)', () => {
    // Captured: a 1.000 s 44.1 kHz sine encoded with libmp3lame: 38 × 1152 + 277 + 47 = 44100 samples.
    const stdout = [...Array(38).fill('nb_samples=1152'), 'nb_samples=277', 'nb_samples=47', 'sample_rate=44100', ''].join('\n');
    expect(parseDecodedDurationMs(stdout)).toBe(1000);
  });

  it('throws without frames or a stream', () => {
    expect(() => parseDecodedDurationMs('')).toThrow(/no audio stream/);
    expect(() => parseDecodedDurationMs('sample_rate=44100\n')).toThrow(/no audio frames/);
  });
});

describe('buildCardsArgs', () => {
  const base = {
    outFile: `${NASTY_DIR}/card.png`,
    width: 1280,
    height: 720,
    fontFile: `${NASTY_DIR}/DejaVu Sans.ttf`,
    background: { from: '0x0f172a', to: '0x1e3a8a' },
    textColor: '0xf8fafc',
    accentColor: '0x93c5fd',
    titleFile: `${NASTY_DIR}/title.txt`,
    bodyFile: `${NASTY_DIR}/body.txt`,
    labelFile: `${NASTY_DIR}/label.txt`,
  };

  it('draws three text files on each raw background, one PNG frame per card, in one run', () => {
    const second = { ...base, outFile: `${NASTY_DIR}/card 2.png`, backgroundFile: `${NASTY_DIR}/bg 2.rgb` };
    const args = buildCardsArgs([{ ...base, backgroundFile: `${NASTY_DIR}/bg.rgb` }, second]);
    expect(args.slice(3, 12)).toEqual(['-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-video_size', '1280x720', '-i', `file:${NASTY_DIR}/bg.rgb`]);
    expect(args).toContain(`file:${NASTY_DIR}/bg 2.rgb`);
    expect(args.slice(-11)).toEqual(['-map', '[card1]', '-frames:v', '1', '-update', '1', '-c:v', 'png', '-f', 'image2', `file:${NASTY_DIR}/card 2.png`]);
    const graph = args[args.indexOf('-filter_complex') + 1]!;
    expect(graph.startsWith('[0:v]drawtext=')).toBe(true);
    expect(graph).toContain(',format=rgb24[card0];[1:v]drawtext=');
    expect(graph.match(/drawtext=/g)).toHaveLength(6);
    expect(graph.match(/expansion=none/g)).toHaveLength(6);
    expect(() => buildCardsArgs([])).toThrow(/no cards/);
  });

  it('escapes font and text paths so they survive both filter parsers', () => {
    const vf = cardFilters(base);
    // The graph parser splits filters at unescaped commas: undo that level first.
    const filters = vf.split(/(?<!\\),/).map(unescapeOnce);
    expect(filters).toHaveLength(4);
    expect(unescapeOnce(optionValue(filters[0]!, 'fontfile'))).toBe(`${NASTY_DIR}/DejaVu Sans.ttf`);
    expect(unescapeOnce(optionValue(filters[0]!, 'textfile'))).toBe(`${NASTY_DIR}/title.txt`);
    expect(unescapeOnce(optionValue(filters[1]!, 'textfile'))).toBe(`${NASTY_DIR}/body.txt`);
    expect(unescapeOnce(optionValue(filters[2]!, 'textfile'))).toBe(`${NASTY_DIR}/label.txt`);
  });

  it('sizes the text from the height and skips missing text', () => {
    expect(cardLayout(1280, 720)).toMatchObject({ bodySize: 56, titleSize: 30, labelSize: 26 });
    const vf = cardFilters({ ...base, titleFile: undefined, labelFile: undefined });
    expect(vf.match(/drawtext=/g)).toHaveLength(1);
    expect(vf).toContain('fontsize=56');
    expect(vf).toContain('y=(h-text_h)/2');
  });

  it('rejects colours that could inject filter syntax and bad sizes', () => {
    expect(() => cardFilters({ ...base, textColor: 'white:x=0' })).toThrow(/colour/);
    expect(() => cardFilters({ ...base, width: 0 })).toThrow(/size/);
    expect(() => cardFilters({ ...base, textColor: 'black@0.5' })).not.toThrow();
  });
});

describe('wrapCardText', () => {
  it('wraps greedily to 28 characters', () => {
    const lines = wrapCardText('Ngày xửa ngày xưa, ở vùng núi Bắc Kạn có một hồ nước rất rộng và rất sâu.');
    expect(lines).toEqual(['Ngày xửa ngày xưa, ở vùng', 'núi Bắc Kạn có một hồ nước', 'rất rộng và rất sâu.']);
    for (const line of lines) expect(Array.from(line).length).toBeLessThanOrEqual(28);
  });

  it('keeps at most 6 lines and ends with an ellipsis when text is left over', () => {
    const text = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ');
    const lines = wrapCardText(text);
    expect(lines).toHaveLength(6);
    expect(lines[5]!.endsWith('…')).toBe(true);
    for (const line of lines) expect(Array.from(line).length).toBeLessThanOrEqual(28);
  });

  it('normalises to NFC, collapses whitespace and cuts words longer than a line', () => {
    expect(wrapCardText('Ho\u0302\u0300  Ba\n\tBe\u0302\u0309')).toEqual(['Hồ Ba Bể']);
    expect(wrapCardText('x'.repeat(30), 10, 6)).toEqual(['xxxxxxxxxx', 'xxxxxxxxxx', 'xxxxxxxxxx']);
    expect(wrapCardText('x'.repeat(30), 10, 2)).toEqual(['xxxxxxxxxx', 'xxxxxxxxx…']);
    expect(wrapCardText('   ')).toEqual([]);
  });

  it('exact fit gets no ellipsis', () => {
    expect(wrapCardText('aaaa bbbb', 4, 2)).toEqual(['aaaa', 'bbbb']);
  });
});

describe('truncateLine', () => {
  it('cuts with an ellipsis', () => {
    expect(truncateLine('Sự tích Hồ Ba Bể', 60)).toBe('Sự tích Hồ Ba Bể');
    expect(truncateLine('abcdefghij', 5)).toBe('abcd…');
  });
});
