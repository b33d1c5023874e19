/**
 * What the benchmarks share: arguments, free ports, private PostgreSQL databases, CPU and memory
 * readings from /proc, medians, the in-process application (dist/, like `storyforge run`), the fake
 * provider process, and the result record every `bench/b*.ts` writes for `bench/run.ts`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import pg from 'pg';
import type { FakeRoute } from '../test/support/fake-openai-server.js';

/** The repository's root (bench files run from dist/bench/bench/). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The built application. */
export const DIST = path.join(ROOT, 'dist');

/** `--name value` from the command line. */
export function arg(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Creates a private database on the server of `url`; returns its URL and how to drop it. */
export async function privateDatabase(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `storyforge_bench_${randomBytes(4).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const own = new URL(url);
  own.pathname = `/${name}`;
  return { url: own.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** The PostgreSQL server the benchmarks use (BENCH_DATABASE_URL, else the local test server). */
export const POSTGRES_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Polls `check` every `everyMs` until it returns a value. @throws Error after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * One JSON (or multipart, for FormData) request to the API of `base`, with a bearer token when given.
 * @throws Error naming the route, the status and the body of any non-2xx answer.
 */
export async function callApi(base: string, method: string, route: string, token?: string, body?: unknown): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (body !== undefined && !(body instanceof FormData)) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${route}`, { method, headers, body: body instanceof FormData ? body : body === undefined ? undefined : JSON.stringify(body) });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** Median of numbers (mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The 1-minute load average, one decimal. */
export const load1 = (): number => Math.round(os.loadavg()[0]! * 10) / 10;

/**
 * CPU seconds (user + system) of a process (this one by default) and of its waited-for children
 * (ffmpeg, espeak-ng …), from /proc/<pid>/stat (clock ticks of 1/100 s).
 */
export async function cpuSeconds(pid: number | 'self' = 'self'): Promise<{ self: number; children: number }> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tick = 100;
  return { self: (Number(fields[11]) + Number(fields[12])) / tick, children: (Number(fields[13]) + Number(fields[14])) / tick };
}

/** Busy and total CPU seconds of the whole machine since boot, summed over its cores, from /proc/stat (idle and iowait count as not busy). */
export async function machineCpuSeconds(): Promise<{ busy: number; total: number }> {
  const line = (await fs.readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((sum, t) => sum + t, 0);
  const idle = ticks[3]! + ticks[4]!;
  return { busy: (total - idle) / 100, total: total / 100 };
}

/** One figure of a benchmark, against its target. */
export interface Figure {
  /** What it is, e.g. `makespan ÷ analytic bound`. */
  name: string;
  value: number;
  /** How the value is shown, e.g. `1.32` or `182 MB`. */
  shown: string;
  /** The target as written in the issue, e.g. `≤ 1.10`. */
  target?: string;
  met?: boolean;
  /** Load averages (1 min) read before each measurement the figure comes from. */
  load: number[];
}

/** What a benchmark hands back to bench/run.ts: figures, then Markdown (tables, notes). */
export interface BenchResult {
  id: string;
  title: string;
  figures: Figure[];
  details: string[];
}

/** Writes the result where `--result FILE` says (bench/run.ts reads it) and prints it. */
export async function report(result: BenchResult): Promise<void> {
  const file = arg('result');
  if (file) await fs.writeFile(file, JSON.stringify(result, null, 2));
  process.stdout.write(`${result.id} ${result.title}\n`);
  for (const f of result.figures) process.stdout.write(`  ${f.name}: ${f.shown} (target ${f.target ?? '–'}; load ${f.load.join(', ')})\n`);
  for (const line of result.details) process.stdout.write(`  ${line}\n`);
}

/** A figure that is met when `value ≤ limit` (`atMost`) or `≥ limit`. */
export function figure(name: string, value: number, shown: string, load: number[], target?: { atMost?: number; atLeast?: number }): Figure {
  if (!target) return { name, value, shown, load };
  if (target.atMost !== undefined) return { name, value, shown, load, target: `≤ ${target.atMost}`, met: value <= target.atMost };
  return { name, value, shown, load, target: `≥ ${target.atLeast}`, met: value >= target.atLeast! };
}

/** The fake OpenAI-compatible provider, in a process of its own (so it takes no time from the pipeline's event loop). */
export interface FakeProviders {
  baseUrl: string;
  /** Requests and most in flight per route so far. */
  stats(): Promise<Partial<Record<FakeRoute, { count: number; maxInFlight: number }>>>;
  /** Forgets the counts. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Starts bench/fake-providers.ts with these latencies, ms; speech answers are WAV. */
export async function startFakeProviders(latencyMs: Partial<Record<FakeRoute, number>>): Promise<FakeProviders> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./fake-providers.js', import.meta.url)), [JSON.stringify(latencyMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = <T>(message: string): Promise<T> =>
    new Promise((resolve, reject) => {
      child.once('message', (answer) => resolve(answer as T));
      child.once('error', reject);
      child.send(message);
    });
  const { baseUrl } = await new Promise<{ baseUrl: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { baseUrl: string }));
    child.once('exit', (code) => reject(new Error(`fake providers exited (${code})`)));
  });
  return {
    baseUrl,
    stats: () => ask('stats'),
    reset: () => ask('reset'),
    close: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The settings that send every capability to the fake providers. */
export function fakeProviderEnv(baseUrl: string): Record<string, string> {
  return {
    STORY_WRITER: 'openai-compatible',
    IMAGE_GENERATOR: 'openai-compatible',
    SPEECH_SYNTHESIZER: 'openai-compatible',
    OPENAI_BASE_URL: baseUrl,
    OPENAI_API_KEY: 'sk-bench',
  };
}

// The built application (dist/), so that its migrations and decorators are the ones `storyforge` runs.
const load = <T>(file: string): Promise<T> => import(path.join(DIST, file)) as Promise<T>;
export const app$ = {
  core: () => import('@nestjs/core'),
  module: () => load<typeof import('../src/app/app.module.js')>('app/app.module.js'),
  config: () => load<typeof import('../src/config/config.js')>('config/config.js'),
  queues: () => load<typeof import('../src/repositories/queue.repository.js')>('repositories/queue.repository.js'),
  stories: () => load<typeof import('../src/repositories/story.repository.js')>('repositories/story.repository.js'),
  batches: () => load<typeof import('../src/repositories/batch.repository.js')>('repositories/batch.repository.js'),
  users: () => load<typeof import('../src/repositories/user.repository.js')>('repositories/user.repository.js'),
  upload: () => load<typeof import('../src/services/intake.service.js')>('services/intake.service.js'),
  batch: () => load<typeof import('../src/services/batch.service.js')>('services/batch.service.js'),
  database: () => load<typeof import('../src/db/database.js')>('db/database.js'),
};

/** An application running the pipeline in this process, on a temporary DATA_DIR and queue prefix. */
export interface BenchApp {
  app: INestApplicationContext;
  config: import('../src/config/config.js').AppConfig;
  userId: string;
  /** Stores story texts as uploads; @returns their ids. */
  upload(files: { name: string; text: string }[]): Promise<string[]>;
  /** Creates a batch of these uploads, waits for it to end; @returns its id and makespan (created → completed, from the database), ms. */
  runBatch(uploadIds: string[], autoMode: Record<string, unknown>): Promise<{ batchId: string; makespanMs: number; storyIds: string[] }>;
  close(): Promise<void>;
}

/**
 * Starts the application with workers in this process (as `storyforge run` does), `env` over
 * process.env; a private PostgreSQL database when `postgres` is set, else embedded PGlite.
 */
export async function startBenchApp(env: Record<string, string>, options: { postgres?: boolean } = {}): Promise<BenchApp> {
  const { NestFactory } = await app$.core();
  const { AppModule } = await app$.module();
  const { loadConfig } = await app$.config();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-bench-'));
  const database = options.postgres ? await privateDatabase(POSTGRES_URL) : undefined;
  const config = loadConfig({
    ...process.env,
    DATA_DIR: dataDir,
    DATABASE_URL: database?.url ?? '',
    QUEUE_PREFIX: `bench-${randomBytes(4).toString('hex')}`,
    LOG_LEVEL: 'warn',
    RECONCILE_INTERVAL_MS: '0',
    ...env,
  });
  const app = await NestFactory.createApplicationContext(AppModule.forRoot({ config, workers: true, http: false }), { logger: ['error'] });
  await app.init();
  const { UserRepository } = await app$.users();
  const { IntakeService } = await app$.upload();
  const { BatchService } = await app$.batch();
  const { BatchRepository } = await app$.batches();
  const { StoryRepository } = await app$.stories();
  const user = await app.get(UserRepository).ensure('bench@storyforge.invalid', 'Bench');
  return {
    app,
    config,
    userId: user.id,
    async upload(files) {
      const ids: string[] = [];
      for (const file of files) ids.push((await app.get(IntakeService).ingest({ userId: user.id, fileName: file.name, bytes: Buffer.from(file.text, 'utf8') })).id);
      return ids;
    },
    async runBatch(uploadIds, autoMode) {
      const { batch, stories } = await app.get(BatchService).create({ userId: user.id, uploadIds, autoMode });
      const repository = app.get(BatchRepository);
      const done = await waitFor('the batch to end', 20 * 60_000, async () => {
        const current = await repository.get(batch.id);
        return current && current.status !== 'pending' && current.status !== 'processing' ? current : undefined;
      }, 50);
      if (done.status !== 'completed') {
        const failed = await Promise.all(stories.map((s) => app.get(StoryRepository).get(s.id)));
        throw new Error(`batch ${done.status}: ${failed.map((s) => s?.error).filter(Boolean).join('; ')}`);
      }
      return { batchId: batch.id, makespanMs: done.completedAt!.getTime() - batch.createdAt.getTime(), storyIds: stories.map((s) => s.id) };
    },
    async close() {
      const { QueueRepository } = await app$.queues();
      await app.get(QueueRepository).obliterate().catch(() => undefined);
      await app.close();
      await database?.drop().catch(() => undefined);
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** English sample text (test/fixtures/samples/stories/en), whole sentences, as one list of sentences. */
export async function englishSentences(): Promise<string[]> {
  const folder = path.join(ROOT, 'test/fixtures/samples/stories/en');
  const sentences: string[] = [];
  for (const name of (await fs.readdir(folder)).filter((n) => n.endsWith('.txt')).sort()) {
    const [, ...body] = (await fs.readFile(path.join(folder, name), 'utf8')).split('\n');
    sentences.push(...body.join(' ').replace(/\s+/g, ' ').trim().split(/(?<=[.!?])\s+/));
  }
  return sentences;
}

/** `count` story files of about `words` words each, whole sentences from the English samples, each with a title line. */
export async function storyTexts(count: number, words: number): Promise<{ name: string; text: string }[]> {
  const sentences = await englishSentences();
  const files: { name: string; text: string }[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const picked: string[] = [];
    let n = 0;
    while (n < words) {
      const sentence = sentences[at++ % sentences.length]!;
      picked.push(sentence);
      n += sentence.split(' ').length;
    }
    files.push({ name: `bench_story_${String(i + 1).padStart(2, '0')}.txt`, text: `Bench story ${i + 1}\n\n${picked.join(' ')}\n` });
  }
  return files;
}
