/**
 * Fault suite: the stores under the pipeline fail mid-batch. Redis loses every key (FLUSHALL)
 * while jobs wait and run; PostgreSQL restarts (every session cut, a couple of seconds down)
 * while steps write. Each scenario runs on a private server of its own (test/support/private-*.ts),
 * so the shared Redis and PostgreSQL that other tests use are never disturbed. The batches must
 * complete with exactly one file per chunk.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { FaultStack, printTable, storyFiles } from '../support/fault-harness.js';
import { type PrivatePostgres, startPrivatePostgres } from '../support/private-postgres.js';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis.js';

const LATENCY = { chat: 300, images: 300, speech: 250 };
const AUTO_MODE = { wordPerChunkImage: 30, wordPerChunkAudio: 20 };

const figures: Record<string, string | number | boolean | undefined>[] = [];
afterAll(() => printTable('Redis and PostgreSQL failures mid-batch', figures));

describe('Redis flushed mid-batch', () => {
  let redis: PrivateRedis;
  let stack: FaultStack;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    stack = await FaultStack.create({ label: 'redis-flush', fake: { latencyMs: LATENCY }, redisUrl: redis.url });
    await Promise.all([stack.startApi(), stack.startWorker(), stack.startWorker()]);
    await stack.signIn();
  });
  afterAll(async () => {
    await stack?.close();
    await redis?.cleanup();
  });

  it('completes the batch: the lost jobs are rebuilt from the database', async () => {
    const seen: { batchId?: string } = {};
    onTestFailed(async () => console.error(await stack.diagnostics(seen.batchId)));
    const batch = await stack.submitBatch(storyFiles(3, 100, 4), { autoMode: AUTO_MODE });
    seen.batchId = batch.batchId;
    // Mid-batch: some story is making its clips and jobs are waiting in Redis.
    await stack.waitForRows(`SELECT id FROM stories WHERE batch_id = $1 AND audio_step = 'running'`, [batch.batchId], {
      what: 'audio running',
    });
    const lost = await stack.liveJobs();
    const flushedAt = Date.now();
    await redis.flushAll();
    const [atFlush] = await stack.sql<{ done: string }>(
      `SELECT count(*) FILTER (WHERE status = 'completed') AS done FROM stories WHERE batch_id = $1`,
      [batch.batchId],
    );
    const end = await stack.waitForBatchEnd(batch.batchId, { timeoutMs: 120_000, since: batch.submittedAt });
    const artifacts = await stack.checkArtifacts(batch.storyIds, batch.heroes);
    const hit = stack.warningsBetween(flushedAt, flushedAt + 5_000).filter((w) => w.process !== 'api');
    const [runs] = await stack.sql<{ failed: string }>(
      `SELECT count(*) FILTER (WHERE r.status = 'failed') AS failed FROM step_runs r JOIN stories s ON s.id = r.story_id WHERE s.batch_id = $1`,
      [batch.batchId],
    );
    figures.push({
      scenario: 'Redis FLUSHALL',
      'jobs lost': `${lost.length} (${lost.filter((j) => j.state === 'active').length} running)`,
      'worker warnings (fault window)': hit.length,
      'stories done before': `${atFlush!.done}/${batch.storyIds.length}`,
      'batch ms': end.elapsedMs,
      'ms after fault': Date.now() - flushedAt,
      'failed step runs': runs!.failed,
      'processes crashed': stack.crashed().map((p) => p.name).join(' ') || 'none',
      batch: end.body.status,
      'files = chunk rows': artifacts.problems.length === 0 ? 'yes' : 'NO',
    });
    if (artifacts.problems.length) console.error(`artifact problems:\n  ${artifacts.problems.join('\n  ')}`);
    expect(lost.length).toBeGreaterThan(0);
    expect(stack.crashed().map((p) => p.name)).toEqual([]);
    expect(end.body.status).toBe('completed');
    expect(artifacts.problems).toEqual([]);
  });
});

describe('PostgreSQL restarted mid-batch', () => {
  let postgres: PrivatePostgres;
  let stack: FaultStack;

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    const admin = new pg.Client({ connectionString: postgres.url() });
    await admin.connect();
    await admin.query('CREATE DATABASE storyforge_fault');
    await admin.end();
    stack = await FaultStack.create({
      label: 'pg-restart',
      fake: { latencyMs: LATENCY },
      database: { url: postgres.url('storyforge_fault') },
    });
    await Promise.all([stack.startApi(), stack.startWorker(), stack.startWorker()]);
    await stack.signIn();
  });
  afterAll(async () => {
    await stack?.close();
    await postgres?.cleanup();
  });

  it('completes the batch after the database comes back', async () => {
    const seen: { batchId?: string } = {};
    onTestFailed(async () => console.error(await stack.diagnostics(seen.batchId)));
    const batch = await stack.submitBatch(storyFiles(3, 100, 7), { autoMode: AUTO_MODE });
    seen.batchId = batch.batchId;
    await stack.waitForRows(`SELECT id FROM stories WHERE batch_id = $1 AND audio_step = 'running'`, [batch.batchId], {
      what: 'audio running',
    });
    const [atRestart] = await stack.sql<{ done: string }>(
      `SELECT count(*) FILTER (WHERE status = 'completed') AS done FROM stories WHERE batch_id = $1`,
      [batch.batchId],
    );
    const stoppedAt = Date.now();
    await postgres.restart(2_000);
    const downMs = Date.now() - stoppedAt;
    const end = await stack.waitForBatchEnd(batch.batchId, { timeoutMs: 120_000, since: batch.submittedAt });
    const artifacts = await stack.checkArtifacts(batch.storyIds, batch.heroes);
    const [runs] = await stack.sql<{ failed: string }>(
      `SELECT count(*) FILTER (WHERE r.status = 'failed') AS failed FROM step_runs r JOIN stories s ON s.id = r.story_id WHERE s.batch_id = $1`,
      [batch.batchId],
    );
    // Evidence that the restart hit the workers: what they logged while the server was away.
    const hit = stack.warningsBetween(stoppedAt, stoppedAt + downMs + 3_000).filter((w) => w.process !== 'api');
    figures.push({
      scenario: `PostgreSQL restart (down ${downMs} ms)`,
      'jobs lost': '-',
      'worker warnings (fault window)': hit.length,
      'stories done before': `${atRestart!.done}/${batch.storyIds.length}`,
      'batch ms': end.elapsedMs,
      'ms after fault': Date.now() - stoppedAt,
      'failed step runs': runs!.failed,
      'processes crashed': stack.crashed().map((p) => p.name).join(' ') || 'none',
      batch: end.body.status,
      'files = chunk rows': artifacts.problems.length === 0 ? 'yes' : 'NO',
    });
    if (artifacts.problems.length) console.error(`artifact problems:\n  ${artifacts.problems.join('\n  ')}`);
    expect(end.body.status).toBe('completed');
    expect(artifacts.problems).toEqual([]);
    if (hit.length) console.log(`worker warnings while PostgreSQL was down (first 5):\n  ${hit.slice(0, 5).map((w) => `${w.process}: ${w.msg.slice(0, 200)}`).join('\n  ')}`);
    // Every process is still up: none died of the lost connections.
    expect(stack.crashed().map((p) => `${p.name} crashed:\n${p.output().split('\n').filter((l) => !l.startsWith('{')).slice(-40).join('\n')}`)).toEqual([]);
  });
});
