/**
 * B3 media: a story of about 3,000 words spoken by espeak-ng (en-us), audio and merge only.
 *
 * - Audio seconds per wall second: narration length ÷ batch makespan (created → completed: story
 *   step, every clip, the merge). Target ≥ 50.
 * - Merge CPU: the CPU (this process and its ffmpeg/ffprobe children) of the merge step run again
 *   on the same clips, ÷ the CPU of the plainest ffmpeg commands that give the same result on the
 *   same clips: one command that joins (resample, mono, pause) and measures loudness (loudnorm),
 *   one that joins again and applies loudnorm with the measured values (linear) while encoding the
 *   MP3. Both outputs are measured (integrated loudness, true peak) and shown. Target ≤ 1.5.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { app$, arg, cpuSeconds, DIST, figure, load1, median, report, startBenchApp, storyTexts } from './support.js';

const run = promisify(execFile);
const REPEAT = Number(arg('repeat') ?? 3);
const WORDS = Number(arg('words') ?? 3000);

const { StoryRepository } = await app$.stories();
const { MergeStep } = (await import(path.join(DIST, 'pipeline/steps/merge.step.js'))) as typeof import('../src/pipeline/steps/merge.step.js');
const { StorageRepository } = (await import(path.join(DIST, 'repositories/storage.repository.js'))) as typeof import('../src/repositories/storage.repository.js');
const { LocalStorageRepository } = (await import(path.join(DIST, 'repositories/local-storage.repository.js'))) as typeof import('../src/repositories/local-storage.repository.js');
const { EspeakNgSynthesizer } = (await import(path.join(DIST, 'providers/speech/espeak-ng.js'))) as typeof import('../src/providers/speech/espeak-ng.js');

/** Integrated loudness (LUFS) and true peak (dBTP) of a file, by ffmpeg's ebur128 filter. */
async function loudness(file: string): Promise<{ lufs: number; truePeakDb: number }> {
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-nostats', '-i', file, '-af', 'ebur128=peak=true', '-f', 'null', '-'], { maxBuffer: 64 * 1024 * 1024 });
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  return { lufs: Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)?.[1]), truePeakDb: Number(/Peak:\s+(-?[\d.]+) dBFS/.exec(summary)?.[1]) };
}

/** The plainest commands: join + measure, then join + loudnorm (linear, measured values) + MP3. @returns CPU seconds. */
async function plainMerge(clips: string[], outFile: string, settings: { pauseMs: number; lufs: number; truePeakDb: number; sampleRate: number; bitrateKbps: number }): Promise<number> {
  const pad = Math.round((settings.pauseMs * settings.sampleRate) / 1000);
  const inputs = clips.flatMap((clip) => ['-i', clip]);
  const join =
    clips.map((_, i) => `[${i}:a]aresample=${settings.sampleRate},aformat=sample_fmts=fltp:channel_layouts=mono${i < clips.length - 1 ? `,apad=pad_len=${pad}` : ''}[a${i}]`).join(';') +
    `;${clips.map((_, i) => `[a${i}]`).join('')}concat=n=${clips.length}:v=0:a=1`;
  const target = `I=${settings.lufs}:TP=${settings.truePeakDb}:LRA=11`;
  const before = await cpuSeconds();
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-nostats', ...inputs, '-filter_complex', `${join},loudnorm=${target}:print_format=json`, '-f', 'null', '-'], { maxBuffer: 64 * 1024 * 1024 });
  const m = JSON.parse(stderr.slice(stderr.lastIndexOf('{'), stderr.lastIndexOf('}') + 1)) as Record<string, string>;
  const measured = `measured_I=${m.input_i}:measured_TP=${m.input_tp}:measured_LRA=${m.input_lra}:measured_thresh=${m.input_thresh}:offset=${m.target_offset}:linear=true`;
  await run('ffmpeg', ['-hide_banner', '-nostats', '-y', ...inputs, '-filter_complex', `${join},loudnorm=${target}:${measured},aresample=${settings.sampleRate}`, '-c:a', 'libmp3lame', '-b:a', `${settings.bitrateKbps}k`, outFile], { maxBuffer: 64 * 1024 * 1024 });
  const after = await cpuSeconds();
  return after.children - before.children;
}

const bench = await startBenchApp({ SPEECH_SYNTHESIZER: 'espeak-ng', STORY_WRITER: 'source', AUDIO_CONCURRENCY: '2' });
const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-bench-b3-'));
try {
  const [file] = await storyTexts(1, WORDS);
  const autoMode = { generateImages: false, generateAudio: true, mergeAudio: true };
  const speeds: number[] = [];
  const speedLoads: number[] = [];
  const rows: string[] = [];
  let storyId = '';
  let narrationS = 0;
  let clips = 0;
  for (let round = 1; round <= Math.max(1, REPEAT - 1); round++) { // REPEAT − 1 runs: each takes minutes
    const load = load1();
    const result = await bench.runBatch(await bench.upload([file!]), autoMode);
    storyId = result.storyIds[0]!;
    const story = await bench.app.get(StoryRepository).getOrThrow(storyId);
    narrationS = story.metadata.narration!.durationMs / 1000;
    clips = (await bench.app.get(StoryRepository).audioChunks(storyId)).length;
    const speed = narrationS / (result.makespanMs / 1000);
    speeds.push(speed);
    speedLoads.push(load);
    const mergeS = (story.metadata.stepDurationsMs?.merge ?? NaN) / 1000;
    rows.push(`| speech + merge ${round} | ${(result.makespanMs / 1000).toFixed(1)} (merge step ${mergeS.toFixed(1)}) | ${speed.toFixed(1)} audio s per s | ${load} |`);
  }

  // espeak-ng alone on the same chunks, one after the other: what speech costs without the pipeline.
  const espeak = new EspeakNgSynthesizer({ binary: bench.config.binaries.espeakNg });
  const spoken = (await bench.app.get(StoryRepository).audioChunks(storyId)).map((c) => c.spokenText);
  const espeakBefore = await cpuSeconds();
  const espeakT0 = performance.now();
  for (const text of spoken) await espeak.synthesize({ text, language: 'en' });
  const espeakWall = (performance.now() - espeakT0) / 1000;
  const espeakAfter = await cpuSeconds();
  const espeakCpu = espeakAfter.children - espeakBefore.children + (espeakAfter.self - espeakBefore.self);
  rows.push(`| espeak-ng alone, ${spoken.length} clips in a row | ${espeakWall.toFixed(1)} | ${espeakCpu.toFixed(2)} CPU s, ${((espeakCpu * 1000) / spoken.length).toFixed(0)} ms per clip, ${(narrationS / espeakWall).toFixed(0)} audio s per s | ${load1()} |`);

  // The merge again on the last story's clips, against the plain commands.
  const stories = bench.app.get(StoryRepository);
  // The plain commands read the clips where they lie: the bench runs on the local folder.
  const storage = bench.app.get(StorageRepository);
  if (!(storage instanceof LocalStorageRepository)) throw new Error('B3 needs STORAGE_DRIVER=local');
  const clipFiles = (await stories.audioChunks(storyId)).map((c) => storage.pathOf(c.storageKey!));
  const ratios: number[] = [];
  const mergeLoads: number[] = [];
  let ours = { lufs: NaN, truePeakDb: NaN };
  let plain = { lufs: NaN, truePeakDb: NaN };
  for (let round = 1; round <= REPEAT; round++) {
    await stories.update(storyId, { status: 'processing', mergeStep: 'queued' });
    const load = load1();
    const before = await cpuSeconds();
    const t0 = performance.now();
    await bench.app.get(MergeStep).run(storyId);
    const wall = (performance.now() - t0) / 1000;
    const after = await cpuSeconds();
    const mergeCpu = after.children - before.children + (after.self - before.self);
    const plainFile = path.join(scratch, 'plain.mp3');
    const plainCpu = await plainMerge(clipFiles, plainFile, bench.config.narration);
    ratios.push(mergeCpu / plainCpu);
    mergeLoads.push(load);
    ours = await loudness(storage.pathOf((await stories.getOrThrow(storyId)).narrationKey!));
    plain = await loudness(plainFile);
    rows.push(`| merge ${round} | ${wall.toFixed(1)} | ${mergeCpu.toFixed(2)} CPU s vs plain ${plainCpu.toFixed(2)} CPU s = ${(mergeCpu / plainCpu).toFixed(2)} | ${load} |`);
  }
  const { lufs, truePeakDb } = bench.config.narration;
  await report({
    id: 'B3',
    title: 'media',
    figures: [
      figure('speech + merge: audio s per wall s', median(speeds), median(speeds).toFixed(1), speedLoads, { atLeast: 50 }),
      figure('merge CPU ÷ plainest ffmpeg commands', median(ratios), median(ratios).toFixed(2), mergeLoads, { atMost: 1.5 }),
    ],
    details: [
      `One story of ${WORDS} words (English samples), espeak-ng en-us, ${clips} clips, ${narrationS.toFixed(1)} s of narration; AUDIO_CONCURRENCY 2; target ${lufs} LUFS, ${truePeakDb} dBTP, MP3 ${bench.config.narration.bitrateKbps} kbit/s at ${bench.config.narration.sampleRate} Hz.`,
      `Measured (ebur128): merge step ${ours.lufs} LUFS, ${ours.truePeakDb} dBTP; plain commands ${plain.lufs} LUFS, ${plain.truePeakDb} dBTP.`,
      '',
      '| run | wall (s) | figure | load before |',
      '| --- | --- | --- | --- |',
      ...rows,
    ],
  });
} finally {
  await bench.close();
  await fs.rm(scratch, { recursive: true, force: true });
}
