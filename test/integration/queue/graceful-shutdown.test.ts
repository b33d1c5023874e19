import { randomBytes } from 'node:crypto';
import { type ConnectionOptions, DelayedError, type Job, Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import {
  QueueRepository,
  redisOptionsFromUrl,
  redisPolicyWarning,
  SHUTDOWN_REASON,
} from '../../../src/repositories/queue.repository.js';
import { type PrivateRedis, startPrivateRedis } from '../../support/private-redis.js';
import { removeRedisKeys } from '../../support/redis.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const prefixes: string[] = [];
/** Everything a test opened, closed after the file even when a test failed before closing it. */
const opened: Array<{ repo: QueueRepository; inspect: Queue }> = [];

type StoryHandler = (job: Job<{ storyId: string }>, token: string | undefined, signal: AbortSignal | undefined) => Promise<void>;

/** A repository on a fresh prefix whose `story-generation` worker runs `story`; other queues do nothing. */
function repository(env: Record<string, string>, story: StoryHandler) {
  const queuePrefix = `sfshutdown-${randomBytes(4).toString('hex')}`;
  prefixes.push(queuePrefix);
  const config = loadConfig({ REDIS_URL, QUEUE_PREFIX: queuePrefix, LOG_LEVEL: 'warn', ...env });
  const repo = new QueueRepository(config);
  repo.startWorkers(async (queue, job, token, signal) => (queue === 'story-generation' ? story(job, token, signal) : undefined), {});
  const inspect = new Queue('story-generation', { connection: redisOptionsFromUrl(REDIS_URL) as ConnectionOptions, prefix: queuePrefix });
  opened.push({ repo, inspect });
  return { repo, inspect };
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(20);
  }
}

afterAll(async () => {
  // Closing twice is harmless: a repository closes its workers once, a closed queue stays closed.
  for (const { repo, inspect } of opened) {
    await repo.onModuleDestroy().catch(() => undefined);
    await inspect.close().catch(() => undefined);
  }
  for (const prefix of prefixes) await removeRedisKeys(REDIS_URL, prefix);
});

describe('QueueRepository shutdown', () => {
  it('lets a running job finish within the grace period', async () => {
    let started = false;
    let finished = false;
    const { repo, inspect } = repository({ SHUTDOWN_GRACE_MS: '5000' }, async (_job, _token, signal) => {
      started = true;
      await sleep(2_000);
      finished = !signal?.aborted;
    });
    await repo.add('story-generation', { storyId: 's1' });
    await until(() => started);
    await repo.onModuleDestroy();
    expect(finished).toBe(true);
    expect(await (await inspect.getJob('story.s1'))?.getState()).toBe('completed');
    await inspect.close();
  });

  it('signals a job still running after the grace period with reason "shutdown"; the job releases itself', async () => {
    let started = false;
    let reason: unknown;
    const { repo, inspect } = repository({ SHUTDOWN_GRACE_MS: '200' }, async (job, token, signal) => {
      started = true;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20_000);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      reason = signal?.reason;
      if (reason === SHUTDOWN_REASON) {
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
    });
    await repo.add('story-generation', { storyId: 's2' });
    await until(() => started);
    const before = Date.now();
    await repo.onModuleDestroy();
    expect(Date.now() - before).toBeLessThan(5_000);
    expect(reason).toBe(SHUTDOWN_REASON);
    expect(['delayed', 'waiting']).toContain(await (await inspect.getJob('story.s2'))?.getState());
    await inspect.close();
  });

  it('cancels running jobs of this process by id', async () => {
    let started = false;
    let reason: unknown;
    const { repo, inspect } = repository({}, async (_job, _token, signal) => {
      started = true;
      await until(() => signal?.aborted === true);
      reason = signal?.reason;
    });
    await repo.add('story-generation', { storyId: 's3' });
    await until(() => started);
    expect(repo.cancelRunning(['story.nope'], 'cancelled')).toBe(0);
    expect(repo.cancelRunning(['story.s3', 'story.nope'], 'cancelled')).toBe(1);
    await until(() => reason !== undefined);
    expect(reason).toBe('cancelled');
    await repo.onModuleDestroy();
    await inspect.close();
  });
});

describe('Redis maxmemory-policy check', () => {
  const servers: PrivateRedis[] = [];
  afterAll(async () => {
    for (const server of servers) await server.cleanup();
  });

  it('is silent for noeviction, warns with the fix otherwise, and warns when CONFIG is refused', async () => {
    const ok = await startPrivateRedis();
    const evicting = await startPrivateRedis(['--maxmemory-policy', 'allkeys-lru']);
    const managed = await startPrivateRedis(['--rename-command', 'CONFIG', '']);
    servers.push(ok, evicting, managed);

    expect(await redisPolicyWarning(ok.url)).toBeUndefined();
    const warning = await redisPolicyWarning(evicting.url);
    expect(warning).toMatch(/"allkeys-lru".*evict queue keys.*jobs are lost.*CONFIG SET maxmemory-policy noeviction.*redis\.conf/);
    expect(await redisPolicyWarning(managed.url)).toMatch(/Could not check Redis maxmemory-policy/);
  });

  it('private Redis restarts empty', async () => {
    const server = await startPrivateRedis();
    servers.push(server);
    const { Redis } = await import('ioredis');
    const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    await client.set('k', 'v');
    await server.stop({ kill: true });
    await server.start();
    expect(await client.get('k')).toBeNull();
    await client.set('k', 'v');
    await server.flushAll();
    expect(await client.get('k')).toBeNull();
    client.disconnect();
  });
});
