/**
 * Building blocks of the fault suite (`test/fault`, run with `npm run test:fault`): real
 * `storyforge serve --no-workers` and `storyforge worker` processes (the built `dist/cli.js`), a
 * fresh PostgreSQL database, a private queue prefix on Redis, a private data directory, and the
 * local {@link FakeOpenAiServer} behind the `openai-compatible` story writer, image generator and
 * speech synthesizer, so that latency and faults are under the test's control.
 *
 * A {@link FaultStack} owns all of it and {@link FaultStack.close} removes all of it (every child
 * process is also SIGKILLed when the test process exits, whatever happened).
 *
 * Each worker process gets its own `OPENAI_API_KEY` (`sk-fault-<worker name>`), so the fake server's
 * request log tells which worker made each provider call ({@link FaultStack.workerOfRequest}): that
 * is how a test finds "the worker that holds the work" before it SIGKILLs it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { installationQueuePrefix } from '../../src/db/installation.js';
import { QUEUE_NAMES } from '../../src/repositories/job-catalog.js';
import { CLI, freePort } from './cli.js';
import { FakeOpenAiServer, type FakeOpenAiServerOptions, type FakeRequest, type FakeRoute } from './fake-openai-server.js';
import { ApiClient, type ApiAnswer } from './http-app.js';
import { removeRedisKeys } from './redis.js';
import { createTestDatabase } from './test-app.js';

// ---------------------------------------------------------------------------------------------
// Child processes

/** A `storyforge` process started by the harness. */
export interface CliProcess {
  /** `api`, `w1`, `w2` … */
  name: string;
  args: string[];
  child: ChildProcess;
  pid: number;
  /** `Date.now()` at spawn. */
  startedAt: number;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code, or the signal's name when it was killed. */
  exited: Promise<number | string>;
  /** True until the process has exited. */
  alive(): boolean;
  /** Set when the harness sent the signal that ended it (so an exit without it is a crash). */
  killedByHarness?: NodeJS.Signals;
  /** Programs it had started that were still running after it was SIGKILLed (and were killed then). */
  orphansKilled?: number;
}

/** A worker process's scratch space (src/repositories/scratch.ts), with a trailing slash. */
export function scratchRootOf(pid: number): string {
  return `${path.join(os.tmpdir(), `storyforge-scratch-${os.hostname()}-${pid}`)}/`;
}

/** SIGKILLs every process whose command line names a path under `dir` (read from /proc); returns how many. */
export function killProcessesUsing(dir: string): number {
  let killed = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) continue;
      process.kill(Number(entry), 'SIGKILL');
      killed += 1;
    } catch {
      // it ended while we looked
    }
  }
  return killed;
}

/** Every child still running, SIGKILLed if the test process exits before a stack is closed. */
const LIVE = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of LIVE) child.kill('SIGKILL');
});

/** Spawns `node dist/cli.js ARGS` with `env` on top of this process's environment. */
export function spawnCli(name: string, args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  LIVE.add(child);
  let output = '';
  let running = true;
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      running = false;
      LIVE.delete(child);
      resolve(code ?? signal ?? -1);
    }),
  );
  return { name, args, child, pid: child.pid!, startedAt: Date.now(), output: () => output, exited, alive: () => running };
}

/**
 * Fails early, with the fix, when `dist/cli.js` is missing or older than a file under `src/`
 * (the processes run the build, not the sources).
 */
let buildChecked = false;
export function assertBuildIsFresh(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before the fault suite`);
  if (buildChecked) return;
  buildChecked = true;
  const built = statSync(CLI).mtimeMs;
  const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');
  const newer: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && statSync(full).mtimeMs > built + 1000) newer.push(path.relative(src, full));
    }
  };
  walk(src);
  if (newer.length) {
    console.warn(`fault suite: dist/ is older than ${newer.length} source file(s) (${newer.slice(0, 5).join(', ')}…); run \`npm run build\``);
  }
}

// ---------------------------------------------------------------------------------------------
// Stories

/** A deterministic pseudo-random generator (mulberry32) seeded from a string. */
export function seededRandom(seed: string): () => number {
  let a = hashString(seed);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 32-bit FNV-1a hash of a string. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const PLACES = ['forest', 'river', 'village', 'mountain', 'meadow', 'castle', 'harbour', 'garden', 'valley', 'bridge', 'market', 'orchard'];
const THINGS = ['lantern', 'golden key', 'silver bell', 'red apple', 'old map', 'wooden flute', 'blue stone', 'paper boat', 'small bird', 'warm loaf'];
const VERBS = ['walked to', 'ran across', 'looked over', 'sang near', 'rested by', 'searched the', 'hurried past', 'dreamed of'];
const ENDINGS = ['and smiled at the sky', 'while the wind was gentle', 'before the sun went down', 'as the bells rang far away', 'with a brave heart', 'and felt very happy'];

/**
 * An English story of about `words` words in which every sentence (six to twelve words) names
 * `hero`, so that every provider call made for the story (the story writer's source text, each
 * image prompt, each clip's text) contains the name: a fault injector can single the story out.
 */
export function makeStoryText(hero: string, words: number): string {
  const random = seededRandom(hero);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const sentences: string[] = [];
  let count = 0;
  while (count < words) {
    const sentence = `${hero} ${pick(VERBS)} the ${pick(PLACES)} and found a ${pick(THINGS)} ${pick(ENDINGS)}.`;
    sentences.push(sentence);
    count += sentence.split(/\s+/).length;
  }
  const paragraphs: string[] = [];
  for (let i = 0; i < sentences.length; i += 4) paragraphs.push(sentences.slice(i, i + 4).join(' '));
  return `${paragraphs.join('\n\n')}\n`;
}

/** Made-up names that are no substring of one another, one per story of a scenario. */
export const HEROES = ['Zorbulon', 'Quillamae', 'Brannoch', 'Tesselind', 'Varrowick', 'Mirelda', 'Ostrevan', 'Pellagrue', 'Hollisandre', 'Kestrowin'];

/** A story file to upload: name and text. */
export interface StoryFile {
  name: string;
  text: string;
  hero: string;
}

/** `count` story files of about `words` words each, heroes from {@link HEROES} starting at `from`. */
export function storyFiles(count: number, words: number, from = 0): StoryFile[] {
  return Array.from({ length: count }, (_, i) => {
    const hero = HEROES[(from + i) % HEROES.length]!;
    return { name: `${hero.toLowerCase()}.txt`, text: makeStoryText(hero, words), hero };
  });
}

// ---------------------------------------------------------------------------------------------
// Artifacts

/** What one story's files and rows look like after a batch (see {@link FaultStack.checkArtifacts}). */
export interface StoryArtifacts {
  storyId: string;
  hero?: string;
  status: string;
  steps: Record<'story' | 'images' | 'audio' | 'merge', string>;
  images: { rows: number; completed: number; files: string[] };
  audio: { rows: number; completed: number; files: string[] };
  narration: boolean;
}

export interface ArtifactReport {
  stories: StoryArtifacts[];
  /** Everything that is not exactly one finished file per chunk row; empty when all is well. */
  problems: string[];
}

/** Size, SHA-256 and modification time of one stored file. */
export interface FileFingerprint {
  size: number;
  sha256: string;
  mtimeMs: number;
}

/** A batch as submitted: its id and its story ids in file order. */
export interface SubmittedBatch {
  batchId: string;
  storyIds: string[];
  /** Hero of each story, in the same order. */
  heroes: string[];
  /** `Date.now()` just before batch-create was sent. */
  submittedAt: number;
  answer: ApiAnswer;
}

/** A job that Redis still holds (waiting, delayed, active, prioritised or waiting for children). */
export interface LiveJob {
  queue: string;
  id: string;
  state: string;
  data: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// The stack

export interface FaultStackOptions {
  /** Short name, used in the queue prefix, the data folder and the user's email. */
  label: string;
  /** Options of the fake provider server (latency per route …). */
  fake?: FakeOpenAiServerOptions;
  /** Environment of every process, on top of the harness's (see {@link FaultStack.env}). */
  env?: Record<string, string>;
  /** A database to use instead of a fresh one on the shared test server; `drop` runs at close. */
  database?: { url: string; drop?: () => Promise<void> };
  /** Redis to use instead of the shared one at 127.0.0.1:6379. */
  redisUrl?: string;
}

const TERMINAL_BATCH = new Set(['completed', 'partially_completed', 'failed', 'cancelled']);

/**
 * One isolated Storyforge deployment for one scenario: database, queue prefix, data folder, fake
 * provider server, an API process and any number of worker processes, plus the probes a test
 * needs (database polling, artifact checks, Redis jobs, process logs).
 */
export class FaultStack {
  readonly fake: FakeOpenAiServer;
  /** The API, once {@link startApi} has run. */
  api!: ApiClient;
  /** Access token of the scenario's user, once {@link signIn} has run. */
  token!: string;
  /** Every process started, in order (dead ones included). */
  readonly processes: CliProcess[] = [];
  /** Environment shared by every process of the stack. */
  readonly env: Record<string, string>;
  readonly db: pg.Pool;
  private workerCount = 0;

  private constructor(
    readonly label: string,
    readonly dataDir: string,
    readonly prefix: string,
    readonly databaseUrl: string,
    readonly redisUrl: string,
    readonly fakeBaseUrl: string,
    fake: FakeOpenAiServer,
    private readonly dropDatabase: (() => Promise<void>) | undefined,
    env: Record<string, string>,
  ) {
    this.fake = fake;
    this.env = env;
    this.db = new pg.Pool({ connectionString: databaseUrl, max: 3 });
    this.db.on('error', () => undefined); // a restarted server: the next query reports it
  }

  /**
   * Makes the database (unless given), data folder, prefix and fake server; starts no process.
   * The harness's environment: the three `openai-compatible` providers on the fake server,
   * `PROVIDER_TIMEOUT_MS=5000`, `JOB_BACKOFF_MS=200`, `JOB_LOCK_DURATION_MS=2000`,
   * `JOB_STALLED_INTERVAL_MS=2000`, `SHUTDOWN_GRACE_MS=2000`, `RECONCILE_INTERVAL_MS=1500`,
   * `LOG_LEVEL=info` (logs are kept in memory for {@link diagnostics}); `options.env` overrides.
   */
  static async create(options: FaultStackOptions): Promise<FaultStack> {
    assertBuildIsFresh();
    const fake = new FakeOpenAiServer({ speechFormat: 'wav', ...options.fake });
    const { baseUrl } = await fake.start();
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `storyforge-fault-${options.label}-`));
    const prefix = `sffault-${options.label}-${randomBytes(3).toString('hex')}`;
    const database = options.database ?? (await createTestDatabase());
    const redisUrl = options.redisUrl ?? 'redis://127.0.0.1:6379';
    const env: Record<string, string> = {
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      JWT_SECRET: 'fault-suite-secret-0123456789abcdef0123456789',
      RATE_LIMIT_AUTH: '1000',
      RATE_LIMIT_UPLOAD: '1000',
      STORY_WRITER: 'openai-compatible',
      IMAGE_GENERATOR: 'openai-compatible',
      SPEECH_SYNTHESIZER: 'openai-compatible',
      OPENAI_BASE_URL: baseUrl,
      OPENAI_IMAGE_SIZE: '256x256',
      PROVIDER_TIMEOUT_MS: '5000',
      JOB_BACKOFF_MS: '200',
      JOB_LOCK_DURATION_MS: '2000',
      JOB_STALLED_INTERVAL_MS: '2000',
      SHUTDOWN_GRACE_MS: '2000',
      RECONCILE_INTERVAL_MS: '1500',
      ...options.env,
    };
    return new FaultStack(options.label, dataDir, prefix, database.url, redisUrl, baseUrl, fake, database.drop, env);
  }

  // -- processes ------------------------------------------------------------------------------

  /** Starts `serve --no-workers` on a free port and waits until `/health` answers 200. */
  async startApi(extraEnv: Record<string, string> = {}): Promise<CliProcess> {
    const port = await freePort();
    const proc = spawnCli('api', ['serve', '--no-workers', '--port', String(port)], { ...this.env, ...extraEnv });
    this.processes.push(proc);
    const baseUrl = `http://127.0.0.1:${port}`;
    await this.until(
      async () => {
        if (!proc.alive()) throw new Error(`serve exited (${await proc.exited}):\n${tail(proc.output(), 40)}`);
        try {
          return (await fetch(`${baseUrl}/health`)).ok ? true : undefined;
        } catch {
          return undefined;
        }
      },
      60_000,
      'serve to answer /health',
      100,
    );
    this.api = new ApiClient(baseUrl);
    return proc;
  }

  /**
   * Starts a `worker` named `w1`, `w2` … (its provider calls carry `Bearer sk-fault-<name>`) and
   * waits until it logs `Worker started`.
   */
  async startWorker(extraEnv: Record<string, string> = {}): Promise<CliProcess> {
    const name = `w${++this.workerCount}`;
    const proc = spawnCli(name, ['worker'], { ...this.env, OPENAI_API_KEY: `sk-fault-${name}`, ...extraEnv });
    this.processes.push(proc);
    await this.until(
      async () => {
        if (proc.output().includes('Worker started')) return true;
        if (!proc.alive()) throw new Error(`worker ${name} exited (${await proc.exited}):\n${tail(proc.output(), 40)}`);
        return undefined;
      },
      60_000,
      `worker ${name} to start`,
      50,
    );
    return proc;
  }

  /** Processes that exited without the harness killing them. */
  crashed(): CliProcess[] {
    return this.processes.filter((p) => !p.alive() && !p.killedByHarness);
  }

  /** Worker processes that are still running. */
  liveWorkers(): CliProcess[] {
    return this.processes.filter((p) => p.name !== 'api' && p.alive());
  }

  /**
   * Sends a signal (SIGKILL by default) and waits for the exit. After a SIGKILL, the media
   * programs the process had started (ffmpeg, espeak-ng: they outlive a parent killed outright)
   * are SIGKILLed too, as a service manager does with the rest of a unit's cgroup (systemd) or
   * container (Docker); {@link CliProcess.orphansKilled} counts them.
   */
  async kill(proc: CliProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | string> {
    if (proc.alive()) {
      proc.killedByHarness = signal;
      proc.child.kill(signal);
    }
    const exit = await proc.exited;
    if (signal === 'SIGKILL') proc.orphansKilled = (proc.orphansKilled ?? 0) + killProcessesUsing(scratchRootOf(proc.pid));
    return exit;
  }

  /** The worker that made a logged provider request (from its `Authorization: Bearer sk-fault-<name>`). */
  workerOfRequest(request: FakeRequest): CliProcess | undefined {
    const name = /^Bearer sk-fault-(\w+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
    return this.processes.find((p) => p.name === name);
  }

  /**
   * The live worker that made the latest request on `route` at or after `since` whose body contains
   * `mustContain` (when given); undefined when there is none yet.
   */
  latestCaller(route: FakeRoute, since: number, mustContain?: string): { worker: CliProcess; request: FakeRequest } | undefined {
    const requests = this.fake.requests.filter((r) => r.route === route && r.receivedAt >= since && (!mustContain || r.rawBody.includes(mustContain)));
    for (const request of requests.reverse()) {
      const worker = this.workerOfRequest(request);
      if (worker?.alive()) return { worker, request };
    }
    return undefined;
  }

  /**
   * Live workers that have an `ffmpeg` or `ffprobe` child process right now (read from /proc),
   * with the child's command line: the workers in the middle of media work such as a merge.
   */
  workersRunningMedia(): { worker: CliProcess; program: string; args: string }[] {
    const byPid = new Map(this.liveWorkers().map((w) => [w.pid, w]));
    const found: { worker: CliProcess; program: string; args: string }[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        const comm = stat.slice(stat.indexOf('(') + 1, close);
        const ppid = Number(stat.slice(close + 2).split(' ')[1]);
        const worker = byPid.get(ppid);
        if (worker && (comm === 'ffmpeg' || comm === 'ffprobe')) {
          const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
          found.push({ worker, program: comm, args });
        }
      } catch {
        // the process ended while we looked
      }
    }
    return found;
  }

  // -- API ------------------------------------------------------------------------------------

  /** Registers the scenario's user; keeps its access token in {@link token}. */
  async signIn(): Promise<string> {
    const { token } = await this.api.register(`fault-${this.label}-${randomBytes(3).toString('hex')}@example.com`);
    this.token = token;
    return token;
  }

  /** Uploads story files in one request; returns their upload ids in order. */
  async upload(stories: StoryFile[]): Promise<string[]> {
    const answer = await this.api.uploadFiles(
      this.token,
      stories.map((s) => ({ name: s.name, bytes: Buffer.from(s.text, 'utf8') })),
    );
    if (answer.status !== 201) throw new Error(`upload: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body.files.map((f: { id: string }) => f.id);
  }

  /** Sends `POST /stories/batch-create` with this body (and headers); returns the raw answer. */
  createBatch(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<ApiAnswer> {
    return this.api.post('/stories/batch-create', { token: this.token, json: body, headers });
  }

  /** The batch-create body the suite uses: English, every step, given chunk sizes. */
  batchBody(fileIds: string[], autoMode: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      fileIds,
      language: 'en',
      style: { genre: 'fairy tale', tone: 'warm' },
      autoMode: { enabled: true, generateImages: true, generateAudio: true, mergeAudio: true, wordPerChunkImage: 60, wordPerChunkAudio: 30, ...autoMode },
    };
  }

  /**
   * Uploads the stories and creates one batch of them in auto mode (every step).
   * @throws Error when an answer is not 201 / 202.
   */
  async submitBatch(stories: StoryFile[], options: { autoMode?: Record<string, unknown>; headers?: Record<string, string> } = {}): Promise<SubmittedBatch> {
    const fileIds = await this.upload(stories);
    const submittedAt = Date.now();
    const answer = await this.createBatch(this.batchBody(fileIds, options.autoMode), options.headers);
    if (answer.status !== 202) throw new Error(`batch-create: ${answer.status} ${JSON.stringify(answer.body)}`);
    return {
      batchId: answer.body.batchId,
      storyIds: answer.body.stories.map((s: { id: string }) => s.id),
      heroes: stories.map((s) => s.hero),
      submittedAt,
      answer,
    };
  }

  /** `GET /stories/batch/:id/status` (undefined while the API cannot answer, e.g. its database restarts). */
  async batchStatus(batchId: string): Promise<any | undefined> { // eslint-disable-line @typescript-eslint/no-explicit-any -- API body
    try {
      const answer = await this.api.get(`/stories/batch/${batchId}/status`, { token: this.token });
      return answer.status === 200 ? answer.body : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Polls the batch status (every 250 ms) until it has ended (`completed`, `partially_completed`,
   * `failed`, `cancelled`); returns the status body and the time since `since`.
   * @throws Error after `timeoutMs`, with the last status seen.
   */
  async waitForBatchEnd(batchId: string, options: { timeoutMs?: number; since?: number } = {}): Promise<{ body: any; elapsedMs: number }> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const since = options.since ?? Date.now();
    let last: unknown;
    try {
      const body = await this.until(
        async () => {
          const status = await this.batchStatus(batchId);
          if (status) last = status;
          return status && TERMINAL_BATCH.has(status.status) ? status : undefined;
        },
        options.timeoutMs ?? 90_000,
        `batch ${batchId} to end`,
        250,
      );
      return { body, elapsedMs: Date.now() - since };
    } catch (error) {
      const summary = last ? JSON.stringify({ status: (last as any).status, stories: (last as any).stories?.map((s: any) => [s.status, s.steps]) }) : 'no status'; // eslint-disable-line @typescript-eslint/no-explicit-any
      throw new Error(`${(error as Error).message}; last status: ${summary}`);
    }
  }

  // -- database -------------------------------------------------------------------------------

  /** Runs one SQL query on the stack's database. */
  async sql<T extends pg.QueryResultRow = any>(text: string, params: unknown[] = []): Promise<T[]> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return (await this.db.query<T>(text, params)).rows;
  }

  /**
   * Polls a query (every `pollMs`, default 50) until it returns at least one row; returns the rows.
   * Query errors (a database being restarted) count as "not yet".
   */
  async waitForRows<T extends pg.QueryResultRow = any>( // eslint-disable-line @typescript-eslint/no-explicit-any
    text: string,
    params: unknown[],
    options: { timeoutMs?: number; pollMs?: number; what?: string } = {},
  ): Promise<T[]> {
    return this.until(
      async () => {
        try {
          const rows = await this.sql<T>(text, params);
          return rows.length ? rows : undefined;
        } catch {
          return undefined;
        }
      },
      options.timeoutMs ?? 60_000,
      options.what ?? text,
      options.pollMs ?? 50,
    );
  }

  /** Calls `check` every `pollMs` until it returns a value; throws after `timeoutMs`. */
  async until<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string, pollMs = 200): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(pollMs);
    }
  }

  // -- files ----------------------------------------------------------------------------------

  /** Local folder of a storage key (`<DATA_DIR>/files/<key>`). */
  pathOf(key: string): string {
    return path.join(this.dataDir, 'files', ...key.split('/'));
  }

  /**
   * Checks each story as a user would: the story and every requested step completed; for images
   * and audio, every chunk row completed, its key `stories/<id>/images|audio/NNN.<ext>` (NNN =
   * index + 1), and the folder holding exactly those files, nothing else (no second copy with
   * another extension, no `.part` leftover, no file without a row); each clip with a decoded
   * duration; the narration and its subtitles on disk.
   */
  async checkArtifacts(storyIds: string[], heroes: string[] = []): Promise<ArtifactReport> {
    const problems: string[] = [];
    const stories: StoryArtifacts[] = [];
    for (const [i, storyId] of storyIds.entries()) {
      const [story] = await this.sql(
        'SELECT status, story_step, images_step, audio_step, merge_step, narration_key, subtitles_key FROM stories WHERE id = $1',
        [storyId],
      );
      const who = `story ${heroes[i] ?? ''} ${storyId}`;
      if (!story) {
        problems.push(`${who}: no row`);
        continue;
      }
      if (story.status !== 'completed') problems.push(`${who}: status ${story.status}`);
      for (const step of ['story_step', 'images_step', 'audio_step', 'merge_step']) {
        if (story[step] !== 'completed') problems.push(`${who}: ${step} ${story[step]}`);
      }
      const report: StoryArtifacts = {
        storyId,
        hero: heroes[i],
        status: story.status,
        steps: { story: story.story_step, images: story.images_step, audio: story.audio_step, merge: story.merge_step },
        images: { rows: 0, completed: 0, files: [] },
        audio: { rows: 0, completed: 0, files: [] },
        narration: false,
      };
      for (const kind of ['images', 'audio'] as const) {
        const table = kind === 'images' ? 'image_chunks' : 'audio_chunks';
        const rows = await this.sql(
          `SELECT index, status, storage_key${kind === 'audio' ? ', duration_ms' : ''} FROM ${table} WHERE story_id = $1 ORDER BY index`,
          [storyId],
        );
        const folder = this.pathOf(`stories/${storyId}/${kind}`);
        const files = existsSync(folder) ? (await fs.readdir(folder)).sort() : [];
        report[kind] = { rows: rows.length, completed: rows.filter((r) => r.status === 'completed').length, files };
        if (rows.length === 0) problems.push(`${who}: no ${kind} chunks`);
        rows.forEach((row, n) => {
          if (row.index !== n) problems.push(`${who}: ${kind} chunk indexes not 0…${rows.length - 1} (found ${row.index} at ${n})`);
        });
        const expected: string[] = [];
        for (const row of rows) {
          if (row.status !== 'completed') problems.push(`${who}: ${kind} chunk ${row.index} is ${row.status}`);
          const name = String(row.index + 1).padStart(3, '0');
          const keyPattern = new RegExp(`^stories/${storyId}/${kind}/${name}\\.[a-z0-9]+$`);
          if (!row.storage_key || !keyPattern.test(row.storage_key)) {
            problems.push(`${who}: ${kind} chunk ${row.index} has storage key ${row.storage_key}`);
            continue;
          }
          expected.push(path.posix.basename(row.storage_key));
          if (kind === 'audio' && !(row.duration_ms > 0)) problems.push(`${who}: audio chunk ${row.index} has no decoded duration`);
        }
        expected.sort();
        const extra = files.filter((f) => !expected.includes(f));
        const missing = expected.filter((f) => !files.includes(f));
        if (extra.length) problems.push(`${who}: ${kind} files without a chunk row: ${extra.join(', ')}`);
        if (missing.length) problems.push(`${who}: ${kind} files missing: ${missing.join(', ')}`);
        for (const file of files.filter((f) => expected.includes(f))) {
          if ((await fs.stat(path.join(folder, file))).size === 0) problems.push(`${who}: ${kind}/${file} is empty`);
        }
      }
      const narration = story.narration_key ? this.pathOf(story.narration_key) : undefined;
      report.narration = !!narration && existsSync(narration) && statSync(narration).size > 0;
      if (!report.narration) problems.push(`${who}: no narration file (key ${story.narration_key})`);
      if (!story.subtitles_key || !existsSync(this.pathOf(story.subtitles_key))) problems.push(`${who}: no subtitles file`);
      stories.push(report);
    }
    return { stories, problems };
  }

  /** Size, SHA-256 and mtime of every file under each story's folder, by path relative to `files/`. */
  async fingerprints(storyIds: string[]): Promise<Record<string, FileFingerprint>> {
    const result: Record<string, FileFingerprint> = {};
    const walk = async (dir: string) => {
      for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else {
          const stat = await fs.stat(full);
          const bytes = await fs.readFile(full);
          result[path.relative(path.join(this.dataDir, 'files'), full)] = {
            size: stat.size,
            sha256: createHash('sha256').update(bytes).digest('hex'),
            mtimeMs: stat.mtimeMs,
          };
        }
      }
    };
    for (const id of storyIds) {
      const dir = this.pathOf(`stories/${id}`);
      if (existsSync(dir)) await walk(dir);
    }
    return result;
  }

  // -- Redis ----------------------------------------------------------------------------------

  /** Jobs of the stack's queues that are not finished (waiting, delayed, active, prioritised …). */
  async liveJobs(): Promise<LiveJob[]> {
    const connection = new Redis(this.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
    connection.on('error', () => undefined);
    const jobs: LiveJob[] = [];
    try {
      // The processes keep their queues under QUEUE_PREFIX:<installation id> (one per database).
      const { rows } = await this.db.query<{ id: string }>('SELECT id FROM installation');
      if (!rows[0]) return jobs; // no process has started on this database yet
      const prefix = installationQueuePrefix(this.prefix, rows[0].id);
      for (const name of QUEUE_NAMES) {
        const queue = new Queue(name, { connection, prefix });
        try {
          for (const state of ['wait', 'delayed', 'active', 'prioritized', 'waiting-children'] as const) {
            for (const job of await queue.getJobs([state])) {
              if (job) jobs.push({ queue: name, id: String(job.id), state, data: job.data as Record<string, unknown> });
            }
          }
        } finally {
          await queue.close();
        }
      }
    } finally {
      connection.disconnect();
    }
    return jobs;
  }

  // -- diagnostics ----------------------------------------------------------------------------

  /**
   * Log lines of the stack's processes (pino JSON) at `warn` or above, written between `from` and
   * `to` (ms since the epoch), with the process name.
   */
  warningsBetween(from: number, to: number): { process: string; time: number; msg: string }[] {
    const found: { process: string; time: number; msg: string }[] = [];
    for (const proc of this.processes) {
      for (const line of proc.output().split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const entry = JSON.parse(line) as { level?: number; time?: number; msg?: string };
          if ((entry.level ?? 0) >= 40 && entry.time! >= from && entry.time! <= to) {
            found.push({ process: proc.name, time: entry.time!, msg: String(entry.msg) });
          }
        } catch {
          // not a log line
        }
      }
    }
    return found;
  }

  /**
   * What to read when a scenario fails: the batch and its stories as the database has them, the
   * step runs per step and status, the jobs still in Redis, and the warnings and errors each
   * process logged (last lines).
   */
  async diagnostics(batchId?: string): Promise<string> {
    const lines: string[] = [`=== diagnostics of ${this.label} (prefix ${this.prefix}, data ${this.dataDir})`];
    try {
      const batches = await this.sql('SELECT id, status, processed_files, failed_files, results FROM batch_jobs' + (batchId ? ' WHERE id = $1' : ''), batchId ? [batchId] : []);
      for (const b of batches) {
        lines.push(`batch ${b.id}: ${b.status} processed ${b.processed_files} failed ${b.failed_files}`);
        const stories = await this.sql(
          `SELECT s.id, s.status, s.story_step, s.images_step, s.audio_step, s.merge_step, s.error, s.failed_step,
             (SELECT count(*) FROM image_chunks c WHERE c.story_id = s.id) AS images,
             (SELECT count(*) FROM image_chunks c WHERE c.story_id = s.id AND c.status = 'completed') AS images_done,
             (SELECT count(*) FROM audio_chunks c WHERE c.story_id = s.id) AS audio,
             (SELECT count(*) FROM audio_chunks c WHERE c.story_id = s.id AND c.status = 'completed') AS audio_done
           FROM stories s WHERE s.batch_id = $1 ORDER BY s.position`,
          [b.id],
        );
        for (const s of stories) {
          lines.push(
            `  story ${s.id}: ${s.status} story=${s.story_step} images=${s.images_step} (${s.images_done}/${s.images}) ` +
              `audio=${s.audio_step} (${s.audio_done}/${s.audio}) merge=${s.merge_step}${s.error ? ` error=${s.error} at ${s.failed_step}` : ''}`,
          );
        }
        const runs = await this.sql(
          `SELECT r.step, r.status, count(*) AS n FROM step_runs r JOIN stories s ON s.id = r.story_id WHERE s.batch_id = $1 GROUP BY 1, 2 ORDER BY 1, 2`,
          [b.id],
        );
        lines.push(`  step_runs: ${runs.map((r) => `${r.step}/${r.status}=${r.n}`).join(' ')}`);
      }
    } catch (error) {
      lines.push(`(database not readable: ${(error as Error).message})`);
    }
    try {
      const jobs = await this.liveJobs();
      lines.push(`jobs in Redis: ${jobs.length ? jobs.map((j) => `${j.queue}/${j.id}/${j.state}`).join(' ') : 'none'}`);
    } catch (error) {
      lines.push(`(Redis not readable: ${(error as Error).message})`);
    }
    for (const proc of this.processes) {
      const notable = proc
        .output()
        .split('\n')
        .filter((line) => line && !/"level":(20|30),/.test(line));
      const state = proc.alive() ? 'running' : proc.killedByHarness ? `killed by the test (${proc.killedByHarness})` : 'CRASHED';
      // A crash shows its whole output (the stack trace is not a log line); others their last warnings.
      const shown = state === 'CRASHED' ? notable.slice(-80) : notable.slice(-25);
      lines.push(`--- ${proc.name} (pid ${proc.pid}, ${state}): ${notable.length} warning/error lines, last ${shown.length}:`);
      lines.push(...shown.map((l) => `    ${l.slice(0, 600)}`));
    }
    return lines.join('\n');
  }

  /** SIGKILLs every process, closes the fake server, drops the database, removes Redis keys and the data folder. */
  async close(): Promise<void> {
    await Promise.all(this.processes.map((p) => this.kill(p, 'SIGKILL')));
    await this.db.end().catch(() => undefined);
    await this.fake.close().catch(() => undefined);
    await this.dropDatabase?.().catch((error: unknown) => console.warn(`drop database: ${String(error)}`));
    await removeRedisKeys(this.redisUrl, this.prefix).catch(() => undefined);
    await fs.rm(this.dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Last `n` lines of a text. */
export function tail(text: string, n: number): string {
  return text.split('\n').slice(-n).join('\n');
}

/** Prints rows as an aligned table under a title (one console.log, so vitest keeps it together). */
export function printTable(title: string, rows: Record<string, string | number | boolean | undefined>[]): void {
  if (!rows.length) {
    console.log(`\n${title}\n  (no rows)`);
    return;
  }
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cell = (value: unknown) => (value === undefined ? '' : String(value));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => `  ${values.map((v, i) => v.padEnd(widths[i]!)).join('  ')}`.trimEnd();
  console.log([`\n${title}`, line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n'));
}

/** Prints one scenario's figures as aligned `name  value` lines under a title. */
export function printFigures(title: string, figures: Record<string, string | number | boolean | undefined>): void {
  const width = Math.max(...Object.keys(figures).map((k) => k.length));
  console.log([`\n${title}`, ...Object.entries(figures).map(([k, v]) => `  ${k.padEnd(width)}  ${v === undefined ? '' : String(v)}`)].join('\n'));
}

/** Median of numbers (mean of the two middle ones for an even count); NaN when empty. */
export function median(values: number[]): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return Number.isInteger(middle) ? (sorted[middle - 1]! + sorted[middle]!) / 2 : sorted[Math.floor(middle)]!;
}

/** Median and maximum of numbers, rounded, as `median/max`; `-` when empty. */
export function medianMax(values: number[]): string {
  if (!values.length) return '-';
  return `${Math.round(median(values))}/${Math.round(Math.max(...values))}`;
}
