import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCli, type StartedCli, startCli, stopClis } from '../support/cli.js';
import { removeRedisKeys } from '../support/http-app.js';
import { createTestDatabase, waitFor } from '../support/test-app.js';

const INTERVAL_MS = 1500;

/** The `time` (ms) of every reconcile pass a process logged (JSON log lines). */
function passTimes(cli: StartedCli): number[] {
  return cli
    .stdout()
    .split('\n')
    .filter((line) => line.includes('Reconcile pass:'))
    .map((line) => (JSON.parse(line) as { time: number }).time);
}

describe('three `worker` processes on one database', () => {
  const prefix = `sftest-fleet-${randomBytes(4).toString('hex')}`;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  const workers: StartedCli[] = [];
  const dataDirs: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    env = {
      DATABASE_URL: database.url,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      METRICS_PORT: '0',
      RECONCILE_INTERVAL_MS: String(INTERVAL_MS),
      WORKER_HEARTBEAT_MS: '300',
      WORKER_HEARTBEAT_TIMEOUT_MS: '3000',
    };
    for (let i = 0; i < 3; i++) {
      const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-fleet-'));
      dataDirs.push(dataDir);
      workers.push(startCli(['worker'], { ...env, DATA_DIR: dataDir }));
    }
  });

  afterAll(async () => {
    await stopClis();
    await removeRedisKeys('redis://127.0.0.1:6379', prefix);
    await database?.drop();
    for (const dir of dataDirs) await fs.rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('run one reconcile pass per interval between them, not one each', async () => {
    const all = () => workers.flatMap(passTimes).sort((a, b) => a - b);
    await waitFor(async () => (all().length >= 6 ? true : undefined), 60_000, 'six reconcile passes');
    const times = all();
    const gaps = times.slice(1).map((time, i) => time - times[i]!);
    // A pass starts at least 0.8 × the interval after the one before it, whichever process runs it
    // (the logged times are when each pass ended, so allow for how long one takes).
    expect(Math.min(...gaps), `gaps between passes: ${gaps.join(', ')} ms`).toBeGreaterThan(INTERVAL_MS * 0.8 - 300);
  }, 90_000);

  it('lists them as live, and `worker drain --all` makes each finish and exit', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const live = await client.query(`SELECT id, pid FROM workers WHERE state = 'running' AND heartbeat_at > now() - interval '3 seconds'`);
      expect(live.rows.map((row: { pid: number }) => row.pid).sort()).toEqual(workers.map((w) => w.child.pid).sort());

      const drained = await runCli(['worker', 'drain', '--all'], { ...env, DATA_DIR: dataDirs[0]! }, 60_000);
      expect(drained.code, drained.stderr).toBe(0);
      expect(drained.stdout.trim().split('\n').sort()).toEqual(live.rows.map((row: { id: string }) => row.id).sort());
      const codes = await Promise.all(workers.map((w) => w.exited));
      // A finished drain is a clean stop: status 0, which restart-on-failure policies leave stopped.
      for (const [i, code] of codes.entries()) expect(code, workers[i]!.output()).toBe(0);
      for (const w of workers) expect(w.stdout()).toContain('Drained: every running job has finished');
      const states = await client.query(`SELECT state FROM workers`);
      expect(states.rows.map((row: { state: string }) => row.state)).toEqual(['stopped', 'stopped', 'stopped']);

      const again = await runCli(['worker', 'drain', '--all'], { ...env, DATA_DIR: dataDirs[0]! }, 60_000);
      expect(again.code).toBe(1);
    } finally {
      await client.end();
    }
  }, 90_000);

  it('a `serve` process with workers, sent SIGUSR2, drains, stops its API too and exits with status 0', async () => {
    const port = await freePort();
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-fleet-'));
    dataDirs.push(dataDir);
    const serve = startCli(['serve', '--port', String(port)], { ...env, DATA_DIR: dataDir });
    const health = () => fetch(`http://127.0.0.1:${port}/health`).then((answer) => answer.status, () => 0);
    // Its drain signal is handled once its workers have started, before it listens.
    await waitFor(async () => ((await health()) === 200 ? true : undefined), 120_000, 'serve to answer /health');

    serve.child.kill('SIGUSR2');
    expect(await serve.exited, serve.output()).toBe(0);
    // The drain ran to its end: no shutdown on the same signal cut it short.
    expect(serve.stdout()).toContain('Drained: every running job has finished');
    expect(serve.stdout()).not.toContain('Drain failed');
    expect(await health()).toBe(0);
  }, 180_000);
});

