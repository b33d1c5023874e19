import { installation } from './schema.js';
import type { Database } from './database.js';

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
