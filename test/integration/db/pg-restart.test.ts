import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Logger } from '@nestjs/common';
import { type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type DatabaseConnection, DatabaseUnavailableError, isConnectionError, openDatabase } from '../../../src/db/database.js';
import { type PrivatePostgres, startPrivatePostgres } from '../../support/private-postgres.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('PostgreSQL restarted while queries run', () => {
  let server: PrivatePostgres;
  let dataDir: string;
  let connection: DatabaseConnection;

  beforeAll(async () => {
    server = await startPrivatePostgres();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-pgrestart-'));
    connection = await openDatabase({ databaseUrl: server.url(), dataDir, queryRetryMs: 30_000 });
    await connection.db.execute(sql`CREATE TABLE probe (n integer PRIMARY KEY)`);
  }, 120_000);

  const rows = async (query: SQL) => ((await connection.db.execute(query)) as unknown as { rows: unknown[] }).rows;

  afterAll(async () => {
    await connection?.close().catch(() => undefined);
    await server?.cleanup();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('every query outside a transaction, and a transaction begun while it is down, eventually succeeds', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    const { db } = connection;
    // The migrations ran: their tables exist.
    const tables = await rows(sql`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'batch_jobs'`);
    expect(tables[0]).toEqual({ n: 1 });

    const results: Promise<unknown>[] = [];
    let n = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const value = n++;
        results.push(db.execute(sql`INSERT INTO probe (n) VALUES (${value})`));
        results.push(db.execute(sql`SELECT count(*) FROM probe`));
        await sleep(25);
      }
    })();

    await sleep(300);
    await server.stop('fast');
    const transaction = db.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO probe (n) VALUES (-1)`);
    });
    await sleep(2_000);
    await server.start();
    await sleep(300);
    writing = false;
    await writer;

    const settled = await Promise.allSettled([...results, transaction]);
    const rejected = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.map((r) => String(r.reason))).toEqual([]);

    const counts = await rows(sql`SELECT count(*)::int AS rows, count(DISTINCT n)::int AS distinct FROM probe`);
    expect(counts[0]).toEqual({ rows: n + 1, distinct: n + 1 });
    // One warning for the outage, not one per query.
    const outageWarnings = warn.mock.calls.filter(([message]) => String(message).includes('unreachable'));
    expect(outageWarnings).toHaveLength(1);
    warn.mockRestore();
  }, 60_000);

  it('a transaction cut off by the restart fails through its promise, and the process lives on', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      let inside!: () => void;
      const entered = new Promise<void>((resolve) => (inside = resolve));
      const transaction = connection.db.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO probe (n) VALUES (-2)`);
        inside();
        await sleep(1_500); // the server stops while this client is checked out
        await tx.execute(sql`INSERT INTO probe (n) VALUES (-3)`);
      });
      await entered;
      await server.stop('fast');
      await expect(transaction).rejects.toThrow();
      await server.start();
      await sleep(300);
      // Rolled back as a whole, and the pool works again.
      expect(await rows(sql`SELECT n FROM probe WHERE n IN (-2, -3)`)).toEqual([]);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  }, 60_000);

  it('fails a query with a clear error once the server stayed away for the whole retry period', async () => {
    const shortRetry = await openDatabase({ databaseUrl: server.url(), dataDir, queryRetryMs: 1_500 });
    try {
      await server.stop('immediate');
      const started = Date.now();
      const error = await shortRetry.db.execute(sql`SELECT 1`).then(
        () => undefined,
        (e: unknown) => e,
      );
      const elapsed = Date.now() - started;
      const cause = (error as Error & { cause?: unknown }).cause;
      expect(cause).toBeInstanceOf(DatabaseUnavailableError);
      expect(String((cause as Error).message)).toMatch(/PostgreSQL at 127\.0\.0\.1:\d+\/postgres stayed unreachable: gave up after retrying/);
      expect(elapsed).toBeGreaterThanOrEqual(1_500);
      expect(elapsed).toBeLessThan(5_000);
    } finally {
      await shortRetry.close().catch(() => undefined);
      await server.start();
    }
  }, 30_000);

  it('does not retry an error of the query itself', async () => {
    const started = Date.now();
    await expect(connection.db.execute(sql`SELECT * FROM no_such_table`)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(isConnectionError(Object.assign(new Error('relation does not exist'), { code: '42P01' }))).toBe(false);
    expect(isConnectionError(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(true);
    expect(isConnectionError(new Error('Connection terminated unexpectedly'))).toBe(true);
  });
});
