import type { AppConfig } from '../config/config.js';
import { openDatabase } from '../db/database.js';
import { type DrainTarget, WorkerRepository } from '../repositories/worker.repository.js';
import { EXIT } from './exit-codes.js';

/**
 * `storyforge worker drain (--all | --host H | --id ID)`: asks live worker processes to drain —
 * take no new job, finish what they run, exit. Each sees the request at its next heartbeat
 * (WORKER_HEARTBEAT_MS); sending SIGUSR2 to a worker process does the same at once.
 * Prints the id of each worker asked. @returns 0, or 1 when no live worker matched.
 * @throws Error when DATABASE_URL is unset (workers on other processes need a PostgreSQL server).
 */
export async function workerDrainCommand(config: AppConfig, target: DrainTarget): Promise<number> {
  if (!config.databaseUrl) throw new Error('storyforge worker drain needs DATABASE_URL: the database the workers use');
  const connection = await openDatabase(config);
  try {
    const asked = await new WorkerRepository(connection).requestDrain(target, config.jobs.heartbeatTimeoutMs);
    for (const id of asked) process.stdout.write(`${id}\n`);
    if (!asked.length) {
      process.stderr.write('No live worker matched (or every one is draining already).\n');
      return EXIT.someFailed;
    }
    process.stderr.write(`Asked ${asked.length} worker(s) to drain; each stops taking jobs within ${config.jobs.heartbeatMs} ms and exits once its running jobs finish.\n`);
    return EXIT.ok;
  } finally {
    await connection.close();
  }
}
