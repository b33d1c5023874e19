import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, freePort } from '../support/cli.js';
import { ApiClient, removeRedisKeys } from '../support/http-app.js';
import { waitFor } from '../support/test-app.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Installation {
  child: ChildProcess;
  api: ApiClient;
  output: () => string;
  exited: Promise<number | string>;
}

/** `storyforge serve` on its own embedded database (DATA_DIR), with the given queue prefix. */
async function serve(dataDir: string, prefix: string): Promise<Installation> {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'serve', '--port', String(port)], {
    env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', QUEUE_PREFIX: prefix, REDIS_URL, LOG_LEVEL: 'info', RECONCILE_INTERVAL_MS: '1000', JOB_BACKOFF_MS: '200' },
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, api: new ApiClient(`http://127.0.0.1:${port}`), output: () => output, exited };
}

describe('two installations on one Redis', () => {
  const prefix = `sftest-two-${randomBytes(4).toString('hex')}`;
  let dir: string;
  const installations: Installation[] = [];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-two-'));
  });

  afterAll(async () => {
    for (const one of installations) one.child.kill('SIGTERM');
    await Promise.all(installations.map((one) => one.exited));
    await removeRedisKeys(REDIS_URL, prefix);
    await fs.rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('each serve, with its own embedded database and the same QUEUE_PREFIX, finishes its own batch and never takes or rebuilds the other\'s jobs', async () => {
    installations.push(await serve(path.join(dir, 'a'), prefix), await serve(path.join(dir, 'b'), prefix));
    for (const one of installations) {
      await waitFor(async () => ((await fetch(`${one.api.baseUrl}/ready`).catch(() => undefined))?.ok ? true : undefined), 120_000, 'serve to be ready');
    }
    const batches = await Promise.all(
      installations.map(async (one, i) => {
        const { token } = await one.api.register(`owner-${i}@example.com`);
        const files = [0, 1].map((n) => ({ name: `story-${i}-${n}.txt`, bytes: Buffer.from(`Lantern ${i}-${n}\n\nThe keeper lit lantern ${i}-${n} at dusk. It shone until morning.`) }));
        const uploaded = await one.api.uploadFiles(token, files);
        expect(uploaded.status).toBe(201);
        const created = await one.api.post('/stories/batch-create', { token, json: { fileIds: uploaded.body.files.map((f: { id: string }) => f.id) } });
        expect(created.status).toBe(202);
        return { token, batchId: created.body.batchId as string, storyIds: created.body.stories.map((s: { id: string }) => s.id) as string[] };
      }),
    );
    const finals = await Promise.all(
      installations.map((one, i) =>
        waitFor(async () => {
          const status = await one.api.get(`/stories/batch/${batches[i]!.batchId}/status`, { token: batches[i]!.token });
          return ['pending', 'processing'].includes(status.body.status) ? undefined : status.body;
        }, 240_000, `batch of installation ${i}`),
      ),
    );
    for (const final of finals) {
      expect(final.status).toBe('completed');
      expect(final.results.map((r: { status: string }) => r.status)).toEqual(['completed', 'completed']);
    }

    // Each installation's jobs are under its own prefix, and only its own stories are there.
    const redis = new Redis(REDIS_URL);
    const keys: string[] = [];
    try {
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*:story-generation:story.*`, 'COUNT', 1000);
        keys.push(...found.filter((key) => key.split(':').length === 4)); // the job hashes, not their :lock or :logs keys
        cursor = next;
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
    const storiesByPrefix = new Map<string, Set<string>>();
    for (const key of keys) {
      const [, installation, , job] = key.split(':');
      const storyId = job!.replace(/^story\./, '');
      storiesByPrefix.set(installation!, (storiesByPrefix.get(installation!) ?? new Set()).add(storyId));
    }
    const groups = [...storiesByPrefix.values()].map((ids) => [...ids].sort());
    expect(groups.sort()).toEqual(batches.map((b) => [...b.storyIds].sort()).sort());
    // No reconciler rebuilt a job of the other installation (or any job: nothing went missing).
    for (const one of installations) expect(one.output()).not.toMatch(/Rebuilt \d+ missing job/);
  }, 420_000);
});
