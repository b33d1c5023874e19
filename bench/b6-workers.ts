/**
 * B6, worker processes: the same CPU-bound batch run by 1, then by 2 `storyforge worker`
 * processes, with the API apart (`serve --no-workers`). Each worker runs one job per queue at a
 * time (every *_CONCURRENCY = 1); the steps are local and CPU-bound (title-card images, espeak-ng
 * speech, ffmpeg merge with two-pass loudness normalisation, a small video render).
 * Target: speed-up ≥ 1.6 on 2 cores.
 *
 * Beside the wall times it reads where the CPU went: the CPU seconds of the worker processes and
 * of their ffmpeg / espeak-ng children (/proc/<pid>/stat), as cores kept busy on average, and the
 * whole machine's busy cores (/proc/stat), which tells how much other work shared the cores.
 *
 *   npm run bench:workers
 *   npm run bench:workers -- --database-url postgres://postgres@127.0.0.1:5432/test --stories 4 --words 150
 *
 * Each run gets a private database on the server (dropped after), its own queue prefix and its own
 * DATA_DIR per process (files in the default local folder of the API's DATA_DIR, shared by
 * path since all run on this host). `--result FILE` writes the figures for bench/run.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { arg, callApi, cpuSeconds, figure, freePort, load1, machineCpuSeconds, POSTGRES_URL, privateDatabase, report, ROOT, waitFor } from './support.js';

const DATABASE_URL = arg('database-url') ?? POSTGRES_URL;
const STORIES = Number(arg('stories') ?? 4);
const WORDS = Number(arg('words') ?? 150);
const TARGET = 1.6;

/** The first WORDS words of the first STORIES English and other-language sample stories. */
async function storyFiles(): Promise<{ name: string; text: string }[]> {
  const files: { name: string; text: string }[] = [];
  for (const language of ['en', 'other', 'vi']) {
    const folder = path.join(ROOT, 'test/fixtures/samples/stories', language);
    for (const name of (await fs.readdir(folder)).filter((n) => n.endsWith('.txt')).sort()) {
      const text = await fs.readFile(path.join(folder, name), 'utf8');
      files.push({ name, text: text.split(/\s+/).slice(0, WORDS).join(' ') });
    }
  }
  return files.slice(0, STORIES);
}

/** One run's figures. */
interface Run {
  seconds: number;
  chunks: number;
  /** The 1-minute load average just before the batch. */
  load: number;
  /** CPU seconds of the worker processes and their children during the batch. */
  workerCpu: number;
  /** Busy CPU seconds of the whole machine during the batch (every process). */
  machineCpu: number;
  /** Step runs (story, image, clip, merge, video) running at once, on average over the batch. */
  inFlight: number;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Runs the batch with `workerCount` worker processes; returns its wall time, chunk count and CPU readings. */
async function run(workerCount: number): Promise<Run> {
  const database = await privateDatabase(DATABASE_URL);
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-bench-b6-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    QUEUE_PREFIX: `sfbench-${randomBytes(4).toString('hex')}`,
    LOG_LEVEL: 'warn',
    METRICS_PORT: '0',
    STORY_CONCURRENCY: '1',
    IMAGE_CONCURRENCY: '1',
    AUDIO_CONCURRENCY: '1',
    MERGE_CONCURRENCY: '1',
    VIDEO_CONCURRENCY: '1',
    // A small render (384×216, 15 fps): the video step is there, without taking over the batch.
    VIDEO_SCALE: '0.2',
    VIDEO_FPS: '15',
  };
  const cli = (args: string[]) => spawn(process.execPath, [path.join(ROOT, 'dist/cli.js'), ...args], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const children: ChildProcess[] = [];
  try {
    children.push(cli(['serve', '--no-workers', '--port', String(port)]));
    await waitFor('serve to answer', 180_000, async () => ((await fetch(`${base}/ready`)).ok ? true : undefined));
    const workers: ChildProcess[] = [];
    for (let i = 0; i < workerCount; i++) workers.push(cli(['worker']));
    children.push(...workers);
    const { accessToken: token } = await callApi(base, 'POST', '/auth/register', undefined, { email: 'bench@example.com', password: 'correct horse battery staple' });
    const form = new FormData();
    for (const file of await storyFiles()) form.append('files', new Blob([file.text]), file.name);
    const uploaded = await callApi(base, 'POST', '/file-upload/batch-upload', token, form);
    // Workers are up once the database lists them all as live.
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await waitFor('the workers to start', 120_000, async () => {
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM workers WHERE state = 'running'`);
      return rows[0].n >= workerCount ? true : undefined;
    });
    await client.end();
    const workerCpu = async () => {
      let total = 0;
      for (const worker of workers) {
        const cpu = await cpuSeconds(worker.pid!);
        total += cpu.self + cpu.children;
      }
      return total;
    };
    const load = load1();
    const [cpuBefore, machineBefore] = [await workerCpu(), await machineCpuSeconds()];
    const started = performance.now();
    const { batchId } = await callApi(base, 'POST', '/stories/batch-create', token, {
      fileIds: uploaded.files.map((f: { id: string }) => f.id),
      autoMode: { enabled: true, generateImages: true, generateAudio: true, mergeAudio: true, renderVideo: true },
    });
    const final = await waitFor('the batch to end', 30 * 60_000, async () => {
      const status = await callApi(base, 'GET', `/stories/batch/${batchId}/status`, token);
      return ['pending', 'processing'].includes(status.status) ? undefined : status;
    });
    const seconds = (performance.now() - started) / 1000;
    const [cpuAfter, machineAfter] = [await workerCpu(), await machineCpuSeconds()];
    if (final.status !== 'completed') throw new Error(`The batch ended ${final.status}`);
    const chunks = final.stories.reduce((sum: number, s: { images: { total: number }; audio: { total: number } }) => sum + s.images.total + s.audio.total, 0);
    // Step runs in flight on average: the time all of them ran, summed, over the batch time.
    const runs = new pg.Client({ connectionString: database.url });
    await runs.connect();
    const { rows } = await runs.query(`SELECT coalesce(sum(extract(epoch FROM finished_at - started_at)), 0)::float AS s FROM step_runs WHERE status = 'completed'`);
    await runs.end();
    return { seconds, chunks, load, workerCpu: cpuAfter - cpuBefore, machineCpu: machineAfter.busy - machineBefore.busy, inFlight: rows[0].s / seconds };
  } finally {
    for (const child of children.reverse()) await stop(child);
    await database.drop().catch(() => undefined);
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const one = await run(1);
  process.stderr.write(`1 worker: ${one.seconds.toFixed(1)} s\n`);
  const two = await run(2);
  process.stderr.write(`2 workers: ${two.seconds.toFixed(1)} s\n`);
  const speedUp = one.seconds / two.seconds;
  const cores = os.cpus().length;
  const busy = (r: Run) => `${(r.workerCpu / r.seconds).toFixed(2)} | ${(r.machineCpu / r.seconds).toFixed(2)} of ${cores}`;
  const row = (count: number, r: Run) => `| ${count} | ${r.seconds.toFixed(1)} | ${r.workerCpu.toFixed(1)} | ${busy(r)} | ${r.inFlight.toFixed(2)} | ${r.load} |`;
  await report({
    id: 'B6',
    title: 'worker processes',
    figures: [figure('speed-up, 2 worker processes vs 1', speedUp, speedUp.toFixed(2), [one.load, two.load], { atLeast: TARGET })],
    details: [
      `${STORIES} stories of ${WORDS} words (${one.chunks} image and audio chunks): card images, espeak-ng, merge, a 384×216 video each; every *_CONCURRENCY = 1; API apart.`,
      '',
      '| worker processes | batch time (s) | worker CPU (s) | cores busy by the workers | cores busy on the machine | step runs in flight | load before |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      row(1, one),
      row(2, two),
      '',
      'Worker CPU counts the worker processes and their ffmpeg / espeak-ng children; cores busy is CPU seconds ÷ batch time, for the workers and for the whole machine (every process on it); step runs in flight is the time every step run took, summed, ÷ batch time (one worker process already runs one job per queue at once).',
    ],
  });
}

await main();
