import type { AppConfig } from '../config/config.js';
import { BatchRepository } from '../repositories/batch.repository.js';
import { RecoveryService } from '../services/recovery.service.js';
import { BatchSession } from './batch-session.js';
import { EXIT } from './exit-codes.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `storyforge retry BATCH_ID…`: re-runs the failed and cancelled stories of each batch from the
 * step where each stopped, in this process, then exports every story of the batches under `--out`
 * like `storyforge run` (finished stories are exported as they are, not made again). A batch with
 * nothing to retry is only exported; one still `processing` (its run was killed) carries on, as
 * the reconciler rebuilds its jobs at start-up. Running it twice changes nothing the second time.
 * @returns the exit code: 0 every story of the batches completed, 1 some failed or were cancelled, 2 an id is
 * malformed or not in this database (DATABASE_URL, or the embedded one in DATA_DIR), 130 interrupted.
 */
export async function retryCommand(batchIds: string[], options: { out: string }, config: AppConfig): Promise<number> {
  const malformed = batchIds.filter((id) => !UUID.test(id));
  if (malformed.length) {
    process.stderr.write(`Not a batch id: ${malformed.join(', ')}. Batch ids are UUIDs; batch.json of a run lists them.\n`);
    return EXIT.usage;
  }
  const session = await BatchSession.open(config, options.out);
  try {
    const recovery = session.app.get(RecoveryService);
    // Every id must be known before any batch is touched.
    for (const batchId of batchIds) {
      if (!(await session.app.get(BatchRepository).get(batchId.toLowerCase()))) {
        const where = config.databaseUrl ? 'the database at DATABASE_URL' : `the embedded database in ${config.dataDir}`;
        process.stderr.write(`Batch ${batchId} is not in ${where}. Use the same DATA_DIR or DATABASE_URL as the run that made it.\n`);
        return EXIT.usage;
      }
    }
    let totalFiles = 0;
    for (const batchId of batchIds) {
      const { batch, retried } = await recovery.retryBatch(batchId.toLowerCase());
      totalFiles += batch.totalFiles;
      const unfinished = batch.status === 'pending' || batch.status === 'processing';
      process.stdout.write(
        retried.length
          ? `Batch ${batch.id}: retrying ${retried.length} of ${batch.totalFiles} stories\n`
          : unfinished
            ? `Batch ${batch.id}: still ${batch.status}; its unfinished stories carry on from where they stopped\n`
            : `Batch ${batch.id}: nothing to retry (${batch.status})\n`,
      );
    }
    return await session.finish(batchIds.map((id) => id.toLowerCase()), [], totalFiles);
  } finally {
    await session.close();
  }
}
