import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { type ConnectionOptions, type Job, Queue, Worker } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { type JobCatalog, jobIdFor, QUEUE_NAMES, type QueueName } from '../pipeline/jobs.js';

/** A handler for each queue in the catalog: leaving one out is a compile error. */
export type JobHandlers = { [Q in QueueName]: (job: Job<JobCatalog[Q]>) => Promise<void> };

/**
 * BullMQ on Redis: the queues of the job catalog, adding jobs with deterministic ids and
 * exponential backoff, and running workers. Transport only: no business rules here.
 */
@Injectable()
export class QueueRepository implements OnModuleDestroy {
  private readonly logger = new Logger('Queues');
  private readonly connection: Redis;
  private readonly connectionOptions: RedisOptions;
  private readonly queues = new Map<QueueName, Queue>();
  private readonly workers: Worker[] = [];

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.connectionOptions = redisOptionsFromUrl(config.redisUrl);
    this.connection = new Redis(this.connectionOptions);
    this.connection.on('error', (error) => this.logger.warn(`Redis: ${error.message}`));
  }

  private queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, {
        connection: this.connectionOptions as ConnectionOptions,
        prefix: this.config.queuePrefix,
        defaultJobOptions: {
          attempts: this.config.jobs.attempts,
          backoff: { type: 'exponential', delay: this.config.jobs.backoffMs },
          removeOnComplete: { age: 24 * 3600, count: 5000 },
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      });
      this.queues.set(name, queue);
    }
    return queue;
  }

  /**
   * Adds a job under its deterministic id. A job with that id that is still waiting, delayed or
   * running makes this a no-op; a finished one is removed first so that the work can run again
   * (steps skip what is already done).
   */
  async add<Q extends QueueName>(name: Q, data: JobCatalog[Q]): Promise<void> {
    const queue = this.queue(name);
    const jobId = jobIdFor(name, data);
    const existing = await queue.getJob(jobId);
    if (existing) {
      const state = await existing.getState();
      if (state === 'completed' || state === 'failed') {
        await existing.remove().catch(() => undefined);
      } else {
        return;
      }
    }
    await queue.add(name, data, { jobId });
  }

  /** Starts one worker per queue with the given concurrency (default 1). */
  startWorkers(handlers: JobHandlers, concurrency: Partial<Record<QueueName, number>>): void {
    for (const name of QUEUE_NAMES) {
      const handler = handlers[name] as (job: Job) => Promise<void>;
      if (!handler) throw new Error(`No handler for queue ${name}`);
      const worker = new Worker(name, (job) => handler(job), {
        connection: this.connectionOptions as ConnectionOptions,
        prefix: this.config.queuePrefix,
        concurrency: concurrency[name] ?? 1,
      });
      worker.on('error', (error) => this.logger.warn(`Worker ${name}: ${error.message}`));
      this.workers.push(worker);
    }
  }

  /** Jobs of a queue that are waiting, delayed, running or prioritised. */
  async count(name: QueueName): Promise<number> {
    return this.queue(name).getJobCountByTypes('waiting', 'delayed', 'active', 'prioritized', 'waiting-children');
  }

  /** Checks that Redis answers (within 3 s); throws a message saying how to start it. */
  async ping(): Promise<void> {
    await probeRedis(this.config.redisUrl);
  }

  /** Removes every job and key of this prefix's queues (used by one-shot runs on a private prefix). */
  async obliterate(): Promise<void> {
    for (const name of QUEUE_NAMES) await this.queue(name).obliterate({ force: true });
  }

  /** Workers close before queues, so that running jobs finish or are released first. */
  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.connection.disconnect();
  }
}

/**
 * ioredis options from a `redis://[user:password@]host[:port][/db]` or `rediss://` URL.
 * `maxRetriesPerRequest: null` is what BullMQ workers require.
 */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const parsed = new URL(url);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`REDIS_URL must start with redis:// or rediss://, got ${url}`);
  }
  const db = parsed.pathname.replace('/', '');
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: db ? Number(db) : undefined,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
  };
}

/**
 * Connects once to Redis, without retrying, and sends PING.
 * @throws Error within about `timeoutMs` saying that Redis is not reachable and how to start it.
 */
export async function probeRedis(url: string, timeoutMs = 3000): Promise<void> {
  const client = new Redis({
    ...redisOptionsFromUrl(url),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new Error(
      `Redis is not reachable at ${url} (${(error as Error).message || 'no answer'}). ` +
        'Start it (e.g. `redis-server --daemonize yes`, or scripts/setup for a local one) or set REDIS_URL.',
    );
  } finally {
    client.disconnect();
  }
}
