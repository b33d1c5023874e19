/**
 * Video render speed: video seconds made per wall second, for a story of about three minutes of
 * narration, at both presets (16:9 1920×1080 and 9:16 1080×1920, full size).
 *
 *   npm run bench:video                 # builds, then runs this
 *   npm run bench:video -- --minutes 1  # a shorter story
 *
 * Runs the real pipeline in this process (embedded PGlite in a temporary DATA_DIR, Redis at
 * REDIS_URL, espeak-ng, ffmpeg): the story, images (cards), audio and merge steps once, then the
 * video step once per preset. Settings come from the environment as for `storyforge run`
 * (VIDEO_PRESET, VIDEO_CRF, VIDEO_FPS …). Prints a Markdown table for bench/RESULTS.md.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';

// The built application (dist/), so that its migrations and decorators are the ones `storyforge` runs.
const dist = new URL('../../', import.meta.url);
const load = <T>(file: string): Promise<T> => import(new URL(file, dist).href) as Promise<T>;
const { NestFactory } = await import('@nestjs/core');
const { AppModule } = await load<typeof import('../src/app/app.module.js')>('app/app.module.js');
const { loadConfig } = await load<typeof import('../src/config/config.js')>('config/config.js');
const { QueueRepository } = await load<typeof import('../src/repositories/queue.repository.js')>('repositories/queue.repository.js');
const { StoryRepository } = await load<typeof import('../src/repositories/story.repository.js')>('repositories/story.repository.js');
const { BatchRepository } = await load<typeof import('../src/repositories/batch.repository.js')>('repositories/batch.repository.js');
const { UserRepository } = await load<typeof import('../src/repositories/user.repository.js')>('repositories/user.repository.js');
const { IntakeService } = await load<typeof import('../src/services/intake.service.js')>('services/intake.service.js');
const { BatchService } = await load<typeof import('../src/services/batch.service.js')>('services/batch.service.js');
const { VideoStep } = await load<typeof import('../src/pipeline/steps/video.step.js')>('pipeline/steps/video.step.js');

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const minutes = Number(process.argv[process.argv.indexOf('--minutes') + 1]) || 3;

/** Childrens' CPU time (ffmpeg, espeak-ng) so far, s: fields cutime + cstime of /proc/self/stat. */
async function childCpuSeconds(): Promise<number | undefined> {
  try {
    const stat = await fs.readFile('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return undefined;
  }
}

/** About `minutes` of espeak-ng narration (en-us says ≈ 187 words a minute, pauses included), whole sentences. */
async function storyText(): Promise<string> {
  const source = await fs.readFile(path.join(ROOT, 'examples', 'en_andersen_little_match_girl.txt'), 'utf8');
  const [title, ...rest] = source.split('\n');
  const sentences = rest.join('\n').replace(/\s+/g, ' ').trim().split(/(?<=[.!?])\s+/);
  const words = Math.round(minutes * 187);
  const picked: string[] = [];
  let count = 0;
  for (const sentence of sentences) {
    if (count >= words) break;
    picked.push(sentence);
    count += sentence.split(' ').length;
  }
  if (count < words * 0.9) throw new Error(`the sample has only ${count} words; ask for fewer minutes`);
  return `${title}\n\n${picked.join(' ')}\n`;
}

async function waitForBatch(app: INestApplicationContext, batchId: string): Promise<void> {
  const batches = app.get(BatchRepository);
  for (;;) {
    const batch = await batches.get(batchId);
    if (batch && batch.status !== 'pending' && batch.status !== 'processing') {
      if (batch.status !== 'completed') throw new Error(`the story failed: ${JSON.stringify(batch.results)}`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-bench-'));
const config = loadConfig({ ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', QUEUE_PREFIX: `bench-${randomBytes(4).toString('hex')}`, LOG_LEVEL: 'warn' });
const app = await NestFactory.createApplicationContext(AppModule.forRoot({ config, workers: true, http: false }), { logger: ['error'] });
await app.init();
try {
  const user = await app.get(UserRepository).ensure('bench@storyforge.invalid', 'Bench');
  const upload = await app.get(IntakeService).ingest({
    userId: user.id,
    fileName: 'en_match_girl_bench.txt',
    bytes: Buffer.from(await storyText(), 'utf8'),
  });
  const { batch, stories } = await app.get(BatchService).create({ userId: user.id, uploadIds: [upload.id], autoMode: { renderVideo: false } });
  const started = performance.now();
  await waitForBatch(app, batch.id);
  const storyId = stories[0]!.id;
  const repository = app.get(StoryRepository);
  const story = await repository.getOrThrow(storyId);
  const narrationS = story.metadata.narration!.durationMs / 1000;
  const images = (await repository.imageChunks(storyId)).length;
  console.log(`story: ${narrationS.toFixed(1)} s of narration, ${images} images (text, images, audio, merge in ${((performance.now() - started) / 1000).toFixed(1)} s)`);

  const rows: string[] = [];
  for (const preset of ['16:9', '9:16'] as const) {
    const current = await repository.getOrThrow(storyId);
    await repository.update(storyId, { autoMode: { ...current.autoMode, renderVideo: true, videoPreset: preset }, videoStep: 'queued' });
    const load1 = os.loadavg()[0]!;
    const cpuBefore = await childCpuSeconds();
    const t0 = performance.now();
    await app.get(VideoStep).run(storyId);
    const wall = (performance.now() - t0) / 1000;
    const cpuAfter = await childCpuSeconds();
    const video = (await repository.getOrThrow(storyId)).metadata.video!;
    const cpu = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
    const speed = narrationS / wall;
    rows.push(
      `| ${preset} | ${video.width}×${video.height} | ${config.video.fps} | ${config.video.preset} / ${config.video.crf} | ${narrationS.toFixed(1)} | ${wall.toFixed(1)} | **${speed.toFixed(2)}** | ${cpu === undefined ? '–' : (narrationS / cpu).toFixed(2)} | ${load1.toFixed(1)} |`,
    );
    console.log(`${preset}: ${narrationS.toFixed(1)} s of video in ${wall.toFixed(1)} s → ${speed.toFixed(2)} video s per wall s` + (cpu ? ` (${cpu.toFixed(1)} CPU s)` : ''));
  }

  const ffmpeg = execFileSync(config.binaries.ffmpeg, ['-version'], { encoding: 'utf8' }).split('\n')[0];
  console.log('\n| preset | size | fps | x264 preset / CRF | video (s) | wall (s) | video s per wall s | video s per CPU s | load before |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
  console.log(`\n${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${ffmpeg}`);
} finally {
  await app.get(QueueRepository).obliterate().catch(() => undefined);
  await app.close();
  await fs.rm(dataDir, { recursive: true, force: true });
}
