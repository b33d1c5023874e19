/**
 * The `workers` table keeps recent workers only: a worker that starts deletes the records of
 * workers gone (stopped, or dead with a stopped heartbeat) for longer than the retention, and
 * leaves live and recently gone ones.
 */
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { WORKER_RECORD_RETENTION_MS } from '../../../src/pipeline/worker-heartbeat.service.js';
import { WorkerRepository } from '../../../src/repositories/worker.repository.js';
import { startTestApp, type TestApp } from '../../support/test-app.js';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('records of worker processes', () => {
  let t: TestApp;
  let db: pg.Client;

  beforeAll(async () => {
    t = await startTestApp({ database: 'postgres', env: { RECONCILE_INTERVAL_MS: '0' } });
    db = new pg.Client({ connectionString: t.config.databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  it('are deleted once gone for longer than the retention, when a worker starts; live and recent ones stay', async () => {
    const sql = async (text: string, params: unknown[] = []) => (await db.query(text, params)).rows;
    expect(WORKER_RECORD_RETENTION_MS).toBe(7 * DAY_MS);
    // This test process's own worker (the test app runs workers) is live.
    const [own] = await sql(`SELECT id FROM workers WHERE pid = $1`, [process.pid]);
    expect(own).toBeDefined();

    const add = async (name: string, state: string, heartbeatAgoDays: number) => {
      const [row] = await sql(
        `INSERT INTO workers (host, pid, state, started_at, heartbeat_at, stopped_at)
         VALUES ($1, 1, $2, now() - make_interval(days => $3 + 1), now() - make_interval(days => $3), CASE WHEN $2 = 'stopped' THEN now() - make_interval(days => $3) END)
         RETURNING id`,
        [name, state, heartbeatAgoDays],
      );
      return row.id as string;
    };
    const stoppedLongAgo = await add('stopped-8-days-ago', 'stopped', 8);
    await add('died-30-days-ago', 'running', 30);
    await add('stopped-yesterday', 'stopped', 1);
    await add('died-6-days-ago', 'draining', 6);

    const registered = await t.app.get(WorkerRepository).register({ host: os.hostname(), pid: 4242 }, WORKER_RECORD_RETENTION_MS);

    expect(registered.pruned).toBe(2);
    const hosts = (await sql(`SELECT host FROM workers ORDER BY host`)).map((row) => row.host);
    expect(hosts).toEqual([os.hostname(), os.hostname(), 'died-6-days-ago', 'stopped-yesterday'].sort());
    expect((await sql(`SELECT id FROM workers WHERE id = ANY($1)`, [[own.id, registered.id]])).length).toBe(2);
    expect(await sql(`SELECT id FROM workers WHERE id = $1`, [stoppedLongAgo])).toEqual([]);
  });
});
