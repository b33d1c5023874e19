/**
 * How close the estimated word starts are to espeak-ng's own: for the first clips of every sample
 * story, the clip is made as the audio step makes it (`espeak-ng -v VOICE -b 1 -w`), its silences
 * measured (`silencedetect`), its words estimated (src/media/word-timings.ts), and each word's
 * estimated start compared with the start espeak-ng reports for it while synthesising the same
 * text through libespeak-ng (word events, espeak-word-events.py; its samples are checked to be the
 * clip's). Prints the share of words within 150 ms, with and without the silences.
 *
 *   npx tsx bench/word-timing/measure.ts [SAMPLES_DIR] [CLIPS_PER_STORY]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildDurationProbeArgs, buildSilenceDetectArgs, parseDecodedDurationMs, parseSilences } from '../../src/media/ffmpeg-args.js';
import { estimateWordTimings } from '../../src/media/word-timings.js';
import { espeakVoiceForLanguage } from '../../src/providers/speech/espeak-ng.js';
import { chunkText } from '../../src/text/chunking.js';
import { toSpokenText } from '../../src/text/speech-text.js';

export interface ClipScore {
  story: string;
  words: number;
  within150: number;
  within150Plain: number;
  errorsMs: number[];
}

const here = path.dirname(new URL(import.meta.url).pathname);

/** Scores one clip's spoken text; `dir` is scratch space. */
export function scoreClip(spoken: string, language: string, dir: string, label = ''): ClipScore {
  const voice = espeakVoiceForLanguage(language)!;
  const textFile = path.join(dir, 'text.txt');
  const clip = path.join(dir, 'clip.wav');
  fs.writeFileSync(textFile, spoken, 'utf8');
  execFileSync('espeak-ng', ['-v', voice, '-b', '1', '-w', clip, '-f', textFile]);
  const ref = JSON.parse(
    execFileSync('python3', [path.join(here, 'espeak-word-events.py'), voice, textFile, path.join(dir, 'ref.wav')], { encoding: 'utf8' }),
  ) as { words: { charStart: number; ms: number }[] };
  // The library's samples are the start of the command's (which adds trailing silence).
  const a = fs.readFileSync(path.join(dir, 'ref.wav')).subarray(44);
  const b = fs.readFileSync(clip).subarray(44);
  if (!b.subarray(0, a.length).equals(a)) throw new Error(`${label}: libespeak-ng and espeak-ng made different audio`);

  const durationMs = parseDecodedDurationMs(execFileSync('ffprobe', buildDurationProbeArgs(clip), { encoding: 'utf8' }));
  const silenceLog = (() => {
    try {
      return execFileSync('sh', ['-c', `ffmpeg ${buildSilenceDetectArgs(clip).map((x) => `'${x}'`).join(' ')} 2>&1`], { encoding: 'utf8' });
    } catch (error) {
      return String((error as { stdout?: string }).stdout ?? '');
    }
  })();
  const silences = parseSilences(silenceLog, durationMs);
  const estimated = estimateWordTimings(spoken, { language, durationMs, silences });
  const plain = estimateWordTimings(spoken, { language, durationMs });

  // Each estimated word is a white-space token of `spoken`: its reference start is the first
  // word event inside the token's characters.
  const tokens = [...spoken.matchAll(/\S+/gu)].filter((m) => /[\p{L}\p{N}]/u.test(m[0]));
  const cpOffset = (utf16: number) => Array.from(spoken.slice(0, utf16)).length;
  const score: ClipScore = { story: label, words: 0, within150: 0, within150Plain: 0, errorsMs: [] };
  tokens.forEach((token, i) => {
    const from = cpOffset(token.index);
    const to = from + Array.from(token[0]).length;
    const event = ref.words.find((w) => w.charStart >= from && w.charStart < to);
    if (!event || !estimated[i] || !plain[i]) return;
    const error = estimated[i]!.startMs - event.ms;
    score.words += 1;
    score.errorsMs.push(error);
    if (Math.abs(error) <= 150) score.within150 += 1;
    if (Math.abs(plain[i]!.startMs - event.ms) <= 150) score.within150Plain += 1;
  });
  return score;
}

/** Scores the first `perStory` clips (60 words, as the story step cuts them) of every vi and en sample story. */
export function measureSamples(samples: string, perStory: number): ClipScore[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'word-timing-'));
  const scores: ClipScore[] = [];
  try {
    for (const lang of ['vi', 'en']) {
      for (const file of fs.readdirSync(path.join(samples, lang)).filter((f) => f.endsWith('.txt')).sort()) {
        const language = file.slice(0, 2);
        const text = fs.readFileSync(path.join(samples, lang, file), 'utf8');
        const chunks = chunkText(text, { maxWords: 60, maxChars: 5000, language }).slice(0, perStory);
        for (const chunk of chunks) scores.push(scoreClip(toSpokenText(chunk, language), language, dir, file));
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return scores;
}

function main() {
  const scores = measureSamples(process.argv[2] ?? '/work/shared/samples/stories', Number(process.argv[3] ?? 6));
  const byStory = new Map<string, ClipScore>();
  for (const s of scores) {
    const t = byStory.get(s.story) ?? { story: s.story, words: 0, within150: 0, within150Plain: 0, errorsMs: [] };
    t.words += s.words;
    t.within150 += s.within150;
    t.within150Plain += s.within150Plain;
    t.errorsMs.push(...s.errorsMs);
    byStory.set(s.story, t);
  }
  const pct = (a: number, b: number) => ((100 * a) / Math.max(1, b)).toFixed(1);
  const median = (xs: number[]) => [...xs].map(Math.abs).sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
  for (const s of byStory.values()) {
    console.log(`${s.story.padEnd(40)} words ${String(s.words).padStart(4)}  within 150 ms ${pct(s.within150, s.words)} % (without silences ${pct(s.within150Plain, s.words)} %)  median |error| ${median(s.errorsMs).toFixed(0)} ms`);
  }
  const all = scores.reduce((t, s) => ({ w: t.w + s.words, a: t.a + s.within150, p: t.p + s.within150Plain }), { w: 0, a: 0, p: 0 });
  console.log(`all: ${all.w} words in ${scores.length} clips, within 150 ms ${pct(all.a, all.w)} % (without silences ${pct(all.p, all.w)} %)`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) main();
