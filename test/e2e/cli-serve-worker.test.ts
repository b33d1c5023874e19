import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCli, startCli, stopCli, stopClis } from '../support/cli.js';
import { removeRedisKeys } from '../support/redis.js';
import { createTestDatabase, waitFor } from '../support/test-app.js';

describe('storyforge serve and worker', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-serve-'));
  });
  const prefixes: string[] = [];
  afterEach(stopClis);
  afterAll(async () => {
    await stopClis();
    for (const prefix of prefixes) await removeRedisKeys('redis://127.0.0.1:6379', prefix);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('serve answers /health and /ready with the embedded database and stops on SIGTERM', async () => {
    const port = await freePort();
    prefixes.push(`sftest-serve-${port}`);
    const serve = startCli(['serve', '--port', String(port)], { DATA_DIR: path.join(dir, 'serve'), QUEUE_PREFIX: `sftest-serve-${port}` });
    try {
      const body = await waitFor(async () => {
        try {
          const response = await fetch(`http://127.0.0.1:${port}/health`);
          return response.ok ? await response.json() : undefined;
        } catch {
          return undefined;
        }
      }, 180_000, 'serve to answer');
      expect(body).toEqual({ status: 'ok' });
      const ready = await fetch(`http://127.0.0.1:${port}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        status: 'ready',
        database: { kind: 'pglite', status: 'up' },
        redis: { status: 'up', maxmemoryPolicy: 'noeviction' },
        storage: { status: 'up' },
        ffmpeg: { status: 'up' },
        'espeak-ng': { status: 'up' },
        workers: { status: 'up' },
      });
    } finally {
      await stopCli(serve);
    }
    expect(await serve.exited).toBeDefined();
    expect(serve.output()).toContain('Listening on');
  }, 240_000); // a storyforge process on the embedded database, which opens slowly on a busy machine

  it('worker refuses to start on the embedded database, saying why', async () => {
    const result = await runCli(['worker'], { DATA_DIR: path.join(dir, 'worker'), DATABASE_URL: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('needs DATABASE_URL');
  });

  it('worker starts on PostgreSQL, serves its metrics and readiness on its own port, and stops on SIGTERM', async () => {
    const database = await createTestDatabase();
    prefixes.push('sftest-worker');
    const metricsPort = await freePort();
    const worker = startCli(['worker'], {
      DATA_DIR: path.join(dir, 'worker-pg'),
      DATABASE_URL: database.url,
      QUEUE_PREFIX: 'sftest-worker',
      METRICS_PORT: String(metricsPort),
    });
    try {
      await waitFor(async () => (worker.output().includes('Worker started') ? true : undefined), 60_000, 'worker to start');
      expect(worker.output()).toContain(`metrics, /health and /ready at http://127.0.0.1:${metricsPort}`);
      const base = `http://127.0.0.1:${metricsPort}`;
      const ready = await fetch(`${base}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready', database: { kind: 'postgres', status: 'up' }, workers: { status: 'up' } });
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('# TYPE storyforge_step_duration_seconds histogram');
    } finally {
      await stopCli(worker);
      await database.drop();
    }
  }, 240_000); // a storyforge process on the embedded database, which opens slowly on a busy machine
});
