/**
 * Statements per step (B2 notes): runs a batch (images and audio, no merge) on PostgreSQL with
 * zero-latency fakes and counts every statement sent to the server (each `pg` client query:
 * BEGIN and COMMIT count, since each is a round trip), attributed to the queue whose job sent it.
 * Nothing in the application is changed: the count wraps `pg.Client.prototype.query` and the
 * queue handlers in this process only.
 *
 *   npx tsc -p bench/tsconfig.json && node dist/bench/bench/step-queries.js [--stories 2] [--show]
 *
 * `--show` also prints each distinct statement of one image and one audio chunk job.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { app$, arg, fakeProviderEnv, startBenchApp, startFakeProviders, storyTexts } from './support.js';

const STORIES = Number(arg('stories') ?? 2);
const SHOW = process.argv.includes('--show');

interface JobCount {
  jobs: number;
  statements: number;
  /** Statements of the first job of this queue, in order. */
  first?: string[];
}
const jobContext = new AsyncLocalStorage<{ queue: string; statements: string[] }>();
const counts = new Map<string, JobCount>();
let outsideJobs = 0;

const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  const job = jobContext.getStore();
  if (job) job.statements.push(typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: string }).text));
  else outsideJobs++;
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

const { QueueRepository } = await app$.queues();
const startWorkers = QueueRepository.prototype.startWorkers;
QueueRepository.prototype.startWorkers = function countedWorkers(this: InstanceType<typeof QueueRepository>, handler, ...rest) {
  const counted: typeof handler = async (queue, ...args) => {
    const statements: string[] = [];
    try {
      return await jobContext.run({ queue, statements }, () => handler(queue, ...args));
    } finally {
      const count = counts.get(queue) ?? { jobs: 0, statements: 0 };
      count.jobs++;
      count.statements += statements.length;
      count.first ??= statements;
      counts.set(queue, count);
    }
  };
  return startWorkers.call(this, counted, ...rest);
};

const fakes = await startFakeProviders({ chat: 0, images: 0, speech: 0 });
const bench = await startBenchApp({ ...fakeProviderEnv(fakes.baseUrl) }, { postgres: true });
try {
  const autoMode = { generateImages: true, generateAudio: true, mergeAudio: false, wordPerChunkImage: 40, wordPerChunkAudio: 40 };
  await bench.runBatch(await bench.upload(await storyTexts(STORIES, 260)), autoMode);
  process.stdout.write(`${STORIES} stories of about 260 words, 40 words per image and audio chunk, PostgreSQL, zero-latency fakes\n\n`);
  process.stdout.write('| queue | jobs | statements | per job |\n| --- | --- | --- | --- |\n');
  for (const [queue, count] of counts) {
    process.stdout.write(`| ${queue} | ${count.jobs} | ${count.statements} | ${(count.statements / count.jobs).toFixed(1)} |\n`);
  }
  process.stdout.write(`\nOutside jobs (batch creation, polling the batch here): ${outsideJobs}\n`);
  if (SHOW) {
    for (const queue of ['image-generation', 'audio-generation']) {
      process.stdout.write(`\nFirst ${queue} job:\n`);
      for (const text of counts.get(queue)?.first ?? []) process.stdout.write(`  ${text.replace(/\s+/g, ' ').slice(0, 160)}\n`);
    }
  }
} finally {
  await bench.close();
  await fakes.close();
}
