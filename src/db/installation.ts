import { isNull, lt, or, sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { installation } from './schema.js';

/** Any drizzle PostgreSQL database (node-postgres or PGlite); only the `installation` table is used. */
type Database = PgDatabase<PgQueryResultHKT, Record<string, unknown>>;

/**
 * This database's installation id (a UUID): made on the first call on a new database (concurrent
 * first starts agree on one), the same ever after. Every process on one database reads the same id.
 */
export async function readInstallationId(db: Database): Promise<string> {
  await db.insert(installation).values({ singleton: true }).onConflictDoNothing();
  const [row] = await db.select({ id: installation.id }).from(installation);
  if (!row) throw new Error('The installation row is missing right after it was written');
  return row.id;
}

/**
 * The Redis key prefix of one installation: `<QUEUE_PREFIX>:<installation id>`. Queues, live-event
 * channels and counters, rate-limit keys, cancel signals and the Socket.IO adapter all live under
 * it, so installations with different databases never share work on one Redis, while every
 * process on one database (serve, worker, run, retry) shares it. `QUEUE_PREFIX` stays a common
 * root (e.g. to find or remove everything of Storyforge with `SCAN MATCH storyforge:*`).
 */
export function installationQueuePrefix(queuePrefix: string, installationId: string): string {
  return `${queuePrefix}:${installationId}`;
}

/**
 * Claims the next scheduled reconciler pass for the caller: records now as the last pass's start
 * unless a pass started less than `windowMs` ago (by the database's clock), so that processes whose
 * timers fire at about the same time run one pass between them.
 * @returns whether the caller got the pass.
 */
export async function claimReconcilePass(db: Database, windowMs: number): Promise<boolean> {
  const rows = await db
    .update(installation)
    .set({ reconciledAt: sql`now()` })
    .where(or(isNull(installation.reconciledAt), lt(installation.reconciledAt, sql`now() - make_interval(secs => ${windowMs / 1000})`)))
    .returning({ at: installation.reconciledAt });
  return rows.length > 0;
}
