/**
 * Batch status under load: requests per second of `GET /stories/batch/:id/status` (a finished
 * batch of nine stories) next to `GET /health`, each with 50 connections, in one run.
 *
 *   npm run bench:status                                   # embedded PGlite
 *   npm run bench:status -- --database-url postgres://postgres@127.0.0.1:5432/test
 *   npm run bench:status -- --seconds 10 --rounds 3
 *
 * Starts `storyforge serve` (dist/) as a child process on a free port, with a temporary DATA_DIR
 * and its own queue prefix; with --database-url it creates a private database on that server and
 * drops it afterwards. Over HTTP it registers a user, uploads the first 150 words of each of the
 * nine sample stories (test/fixtures/samples/stories), runs them as one batch (images, audio, merge) to the end, then measures with autocannon:
 * /health and the status route alternately, `--rounds` times each for `--seconds` (after a short
 * warm-up), and prints a Markdown table for bench/RESULTS.md (B4 of `npm run bench`: `--result FILE`).
 * Targets: status ≥ 0.5 × /health, status p99 ≤ 25 ms. `--connections` (default 50) and `--words`
 * (per story, default 150) change the load and the batch.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { arg, callApi, figure, freePort, median, privateDatabase, report, ROOT, waitFor } from './support.js';

const SECONDS = Number(arg('seconds') ?? 10);
const ROUNDS = Number(arg('rounds') ?? 2);
const CONNECTIONS = Number(arg('connections') ?? 50);
const WORDS_PER_STORY = Number(arg('words') ?? 150);

/** The first {@link WORDS_PER_STORY} words of each sample story (test/fixtures/samples/stories). */
async function storyFiles(): Promise<{ name: string; text: string }[]> {
  const folders = ['en', 'vi', 'other'].map((language) => `test/fixtures/samples/stories/${language}`);
  const files: { name: string; text: string }[] = [];
  for (const folder of folders) {
    for (const name of (await fs.readdir(path.join(ROOT, folder))).filter((n) => n.endsWith('.txt')).sort()) {
      const text = await fs.readFile(path.join(ROOT, folder, name), 'utf8');
      files.push({ name, text: text.split(/\s+/).slice(0, WORDS_PER_STORY).join(' ') });
    }
  }
  return files;
}


interface Measured {
  route: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function measure(label: string, url: string, token: string | undefined, seconds: number): Promise<Measured> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { route: label, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors + result.timeouts };
}

async function main(): Promise<void> {
  const databaseUrl = arg('database-url') ?? process.env.BENCH_DATABASE_URL;
  const database = databaseUrl ? await privateDatabase(databaseUrl) : undefined;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-bench-status-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let serve: ChildProcess | undefined;
  try {
    serve = spawn(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'serve', '--port', String(port)], {
      env: {
        ...process.env,
        DATA_DIR: dataDir,
        QUEUE_PREFIX: `sfbench-${randomBytes(4).toString('hex')}`,
        LOG_LEVEL: 'warn',
        ...(database ? { DATABASE_URL: database.url } : { DATABASE_URL: '' }),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitFor('serve to answer', 180_000, async () => ((await fetch(`${base}/ready`)).ok ? true : undefined), 500);
    const { accessToken: token } = await callApi(base, 'POST', '/auth/register', undefined, { email: 'bench@example.com', password: 'correct horse battery staple' });
    const form = new FormData();
    for (const file of await storyFiles()) form.append('files', new Blob([file.text]), file.name);
    const uploaded = await callApi(base, 'POST', '/file-upload/batch-upload', token, form);
    const { batchId } = await callApi(base, 'POST', '/stories/batch-create', token, { fileIds: uploaded.files.map((f: { id: string }) => f.id) });
    const started = Date.now();
    const final = await waitFor('the batch to end', 15 * 60_000, async () => {
      const status = await callApi(base, 'GET', `/stories/batch/${batchId}/status`, token);
      return ['pending', 'processing'].includes(status.status) ? undefined : status;
    }, 500);
    const statusRoute = `/stories/batch/${batchId}/status`;
    const bodyBytes = Buffer.byteLength(JSON.stringify(final));
    const chunks = final.stories.reduce((sum: number, s: { images: { total: number }; audio: { total: number } }) => sum + s.images.total + s.audio.total, 0);
    process.stderr.write(`Batch ${final.status} in ${((Date.now() - started) / 1000).toFixed(0)} s; measuring…\n`);

    const load = Math.round(os.loadavg()[0]! * 10) / 10;
    await measure('warm-up', `${base}/health`, undefined, 2);
    await measure('warm-up', `${base}${statusRoute}`, token, 2);
    const rows: Measured[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      rows.push(await measure('/health', `${base}/health`, undefined, SECONDS));
      rows.push(await measure('status', `${base}${statusRoute}`, token, SECONDS));
    }
    const mean = (route: string) => {
      const of = rows.filter((r) => r.route === route);
      return of.reduce((sum, r) => sum + r.rps, 0) / of.length;
    };
    const ratio = mean('status') / mean('/health');
    const lines = [
      `${new Date().toISOString().slice(0, 10)}, ${database ? 'PostgreSQL' : 'embedded PGlite'}, ${CONNECTIONS} connections, ${ROUNDS} × ${SECONDS} s each, alternating; status of a finished batch of ${final.stories.length} stories (${chunks} chunks, ${bodyBytes} bytes of JSON); load average before: ${load}`,
      '',
      '| round | route | req/s | p50 (ms) | p99 (ms) | non-2xx | errors |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows.map((r, i) => `| ${Math.floor(i / 2) + 1} | ${r.route === 'status' ? '`GET /stories/batch/:id/status`' : '`GET /health`'} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors} |`),
      '',
      `Mean: /health ${mean('/health').toFixed(0)} req/s, status ${mean('status').toFixed(0)} req/s: **status = ${ratio.toFixed(2)} × /health** (target ≥ 0.5).`,
    ];
    const statusRows = rows.filter((r) => r.route === 'status');
    const p99 = median(statusRows.map((r) => r.p99));
    const loads = [load];
    await report({
      id: 'B4',
      title: 'API',
      figures: [
        figure('batch status ÷ /health requests per s', ratio, ratio.toFixed(2), loads, { atLeast: 0.5 }),
        figure('batch status p99 (ms, median of rounds)', p99, `${p99} ms`, loads, { atMost: 25 }),
      ],
      details: lines,
    });
    if (rows.some((r) => r.non2xx > 0 || r.errors > 0)) process.exitCode = 1;
  } finally {
    if (serve && serve.exitCode === null) {
      const exited = new Promise((resolve) => serve!.once('exit', resolve));
      serve.kill('SIGTERM');
      await exited;
    }
    await database?.drop().catch(() => undefined);
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

await main();
