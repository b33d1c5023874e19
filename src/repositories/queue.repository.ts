import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { type ConnectionOptions, type Job, Queue, Worker } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { type JobCatalog, jobIdFor, QUEUE_NAMES, type QueueName } from './job-catalog.js';

/**
 * Runs one job of `queue`. `token` is the worker's lock token of the job; `signal` aborts when
 * the job is cancelled on this process ({@link QueueRepository.cancelRunning}) or, with reason
 * `'shutdown'`, when the shutdown grace period is over and the job should be released back to the
 * queue. The payload is as Redis holds it: check it with parseJobPayload.
 */
export type JobHandler = (queue: QueueName, job: Job, token: string | undefined, signal: AbortSignal | undefined) => Promise<void>;

/** Abort reason given to running jobs when the shutdown grace period ({@link AppConfig} `jobs.shutdownGraceMs`) is over. */
export const SHUTDOWN_REASON = 'shutdown';

/**
 * After the grace period, how long signalled jobs get to release themselves and the workers to
 * close, ms, before the workers are force-closed (a job still running then is recovered by
 * another worker once its lock expires).
 */
export const SHUTDOWN_RELEASE_TIMEOUT_MS = 10_000;

/** Hears of every job this process's workers run and of stalled jobs (logging context, metrics). */
export interface JobObserver {
  /** Runs one job: calls `work` once, and resolves or throws as it does. */
  run(queue: QueueName, job: Job, work: () => Promise<void>): Promise<void>;
  /** A job of `queue` was taken back from a worker that stopped answering. */
  stalled(queue: QueueName, jobId: string): void;
}

/** A queue's jobs by state, and how long its oldest waiting job has been there. */
export interface QueueStats {
  queue: QueueName;
  /** Jobs by state: waiting, delayed, active, prioritized, waiting-children, failed. */
  counts: Record<string, number>;
  /** Age of the oldest waiting job, ms since it was added; 0 when none waits. */
  oldestWaitingMs: number;
}

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
  private workersClosed?: Promise<void>;
  /** Ids of the jobs each worker is running now. */
  private readonly running = new Map<Worker, Set<string>>();
  private observer?: JobObserver;

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
          // Jitter spreads the retries of many jobs that failed together (a provider outage).
          backoff: { type: 'exponential', delay: this.config.jobs.backoffMs, jitter: 0.5 },
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
   * @returns true when a job was added.
   */
  async add<Q extends QueueName>(name: Q, data: JobCatalog[Q]): Promise<boolean> {
    const queue = this.queue(name);
    const jobId = jobIdFor(name, data);
    const existing = await queue.getJob(jobId);
    if (existing) {
      const state = await existing.getState();
      if (state !== 'completed' && state !== 'failed') return false;
      await existing.remove().catch(() => undefined);
    }
    await queue.add(name, data, { jobId });
    return true;
  }

  /**
   * Finds a job by its payload.
   * @returns its data and state, or undefined when Redis has no such job.
   */
  async find<Q extends QueueName>(name: Q, data: JobCatalog[Q]): Promise<{ state: string; failedReason?: string } | undefined> {
    const job = await this.queue(name).getJob(jobIdFor(name, data));
    if (!job) return undefined;
    return { state: await job.getState(), failedReason: job.failedReason || undefined };
  }

  /**
   * Removes a waiting, delayed or finished job by its payload. A running job is locked by its
   * worker and stays (abort it instead); a missing one is not an error.
   * @returns true when a job was removed.
   */
  async remove<Q extends QueueName>(name: Q, data: JobCatalog[Q]): Promise<boolean> {
    const job = await this.queue(name).getJob(jobIdFor(name, data));
    if (!job) return false;
    try {
      await job.remove();
      return true;
    } catch {
      return false; // locked by the worker running it
    }
  }

  /**
   * Starts one worker per queue with the given concurrency (default 1). BullMQ's stalled-job check
   * takes a job back from a worker that stopped answering (its process died) and runs it again;
   * after `JOB_MAX_STALLED` such times it fails the job without running any handler, and
   * `onStalledOut` hears of it (payload and BullMQ's reason).
   */
  startWorkers(
    handler: JobHandler,
    concurrency: Partial<Record<QueueName, number>>,
    onStalledOut?: <Q extends QueueName>(queue: Q, data: JobCatalog[Q], reason: string) => Promise<void>,
  ): void {
    for (const name of QUEUE_NAMES) {
      const running = new Set<string>();
      // Three declared parameters: BullMQ creates an AbortSignal per job only for such processors.
      const processor = async (job: Job, token: string | undefined, signal: AbortSignal | undefined) => {
        const id = job.id ?? '';
        running.add(id);
        try {
          await (this.observer ? this.observer.run(name, job, () => handler(name, job, token, signal)) : handler(name, job, token, signal));
        } finally {
          running.delete(id);
        }
      };
      const worker = new Worker(name, processor, {
        connection: this.connectionOptions as ConnectionOptions,
        prefix: this.config.queuePrefix,
        concurrency: concurrency[name] ?? 1,
        lockDuration: this.config.jobs.lockDurationMs,
        stalledInterval: this.config.jobs.stalledIntervalMs,
        maxStalledCount: this.config.jobs.maxStalled,
      });
      worker.on('error', (error) => this.logger.warn(`Worker ${name}: ${error.message}`));
      worker.on('stalled', (jobId) => this.observer?.stalled(name, jobId));
      if (onStalledOut) {
        worker.on('stalled', (jobId) => {
          void this.queue(name)
            .getJob(jobId)
            .then(async (job) => {
              if (job && (await job.getState()) === 'failed') await onStalledOut(name, job.data, job.failedReason);
            })
            .catch((error: Error) => this.logger.warn(`Stalled job ${jobId} of ${name}: ${error.message}`));
        });
      }
      this.workers.push(worker);
      this.running.set(worker, running);
    }
  }

  /**
   * Signals the jobs with these ids that run on this process (their handler's `signal` aborts with
   * `reason`); jobs running elsewhere or not running are left alone.
   * @returns how many jobs were signalled.
   */
  cancelRunning(jobIds: string[], reason: string): number {
    let signalled = 0;
    for (const worker of this.workers) {
      for (const id of jobIds) if (worker.cancelJob(id, reason)) signalled++;
    }
    return signalled;
  }

  /**
   * Stops this process's workers from taking jobs and resolves once the jobs they run have
   * finished (BullMQ's pause, which waits for them however long they take): a drain.
   */
  async pauseWorkers(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.pause()));
  }

  /** Whether this process runs a worker for every queue and they are all taking jobs (not closing or paused). */
  consuming(): boolean {
    return this.workers.length === QUEUE_NAMES.length && !this.workersClosed && this.workers.every((worker) => worker.isRunning() && !worker.isPaused());
  }

  /** Every queue of the catalog, opened (for the queue dashboard). */
  allQueues(): Queue[] {
    return QUEUE_NAMES.map((name) => this.queue(name));
  }

  /** Sets the observer that every job of this process's workers runs through (one per process). */
  observe(observer: JobObserver): void {
    this.observer = observer;
  }

  /** Every queue's jobs by state and the age of its oldest waiting job, read from Redis now. */
  async stats(): Promise<QueueStats[]> {
    const states = ['waiting', 'delayed', 'active', 'prioritized', 'waiting-children', 'failed'] as const;
    return Promise.all(
      QUEUE_NAMES.map(async (name) => {
        const queue = this.queue(name);
        const [counts, [oldest]] = await Promise.all([queue.getJobCounts(...states), queue.getJobs(['waiting'], 0, 0, true)]);
        return { queue: name, counts, oldestWaitingMs: oldest ? Math.max(0, Date.now() - oldest.timestamp) : 0 };
      }),
    );
  }

  /** Jobs of a queue that are waiting, delayed, running or prioritised. */
  async count(name: QueueName): Promise<number> {
    return this.queue(name).getJobCountByTypes('waiting', 'delayed', 'active', 'prioritized', 'waiting-children');
  }

  /** Checks that Redis answers (within `timeoutMs`, default 3 s); throws a message saying how to start it. */
  async ping(timeoutMs?: number): Promise<void> {
    await probeRedis(this.config.redisUrl, timeoutMs);
  }

  /** Removes every job and key of this prefix's queues (used by one-shot runs on a private prefix). */
  async obliterate(): Promise<void> {
    for (const name of QUEUE_NAMES) await this.queue(name).obliterate({ force: true });
  }

  /**
   * Warns (once, loudly) when Redis's `maxmemory-policy` is not `noeviction`: under memory pressure
   * Redis would then evict queue keys and jobs would be lost. Never throws.
   */
  async checkRedisPolicy(): Promise<void> {
    const warning = await redisPolicyWarning(this.config.redisUrl);
    if (warning) this.logger.warn(warning);
  }

  /**
   * Graceful shutdown. Workers stop taking jobs and running ones get `jobs.shutdownGraceMs` to
   * finish; then those still running are signalled with reason {@link SHUTDOWN_REASON} (their
   * handlers release them back to the queue) and get {@link SHUTDOWN_RELEASE_TIMEOUT_MS} more,
   * after which the workers are force-closed. Queues and the connection close last.
   */
  async onModuleDestroy(): Promise<void> {
    await this.closeWorkers();
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.connection.disconnect();
  }

  /**
   * Stops this process's workers as described at {@link onModuleDestroy}; queues stay open (e.g.
   * to remove a private prefix's jobs once nothing can add more). Calling it again waits for the
   * same close.
   */
  closeWorkers(): Promise<void> {
    this.workersClosed ??= this.stopWorkers();
    return this.workersClosed;
  }

  private async stopWorkers(): Promise<void> {
    const graceMs = this.config.jobs.shutdownGraceMs;
    const closing = this.workers.map((worker) => {
      const entry = { worker, closed: false, done: Promise.resolve() };
      entry.done = worker.close().then(
        () => {
          entry.closed = true;
        },
        (error: unknown) => {
          entry.closed = true;
          this.logger.warn(`Worker ${worker.name} did not close cleanly: ${(error as Error).message}`);
        },
      );
      return entry;
    });
    const allClosed = Promise.all(closing.map((entry) => entry.done));
    const runningCount = () => closing.reduce((sum, { worker }) => sum + (this.running.get(worker)?.size ?? 0), 0);
    const atStart = runningCount();
    if (atStart > 0) this.logger.log(`Shutdown: waiting up to ${graceMs} ms for ${atStart} running jobs`);
    if (!(await settlesWithin(allClosed, graceMs))) {
      const open = closing.filter((entry) => !entry.closed);
      const signalled = runningCount();
      for (const { worker } of open) worker.cancelAllJobs(SHUTDOWN_REASON);
      this.logger.warn(`Shutdown: grace period of ${graceMs} ms over; releasing ${signalled} running jobs back to the queue`);
      if (await settlesWithin(allClosed, SHUTDOWN_RELEASE_TIMEOUT_MS)) {
        this.logger.log(`Shutdown: released ${signalled} jobs`);
      } else {
        const left = runningCount();
        this.logger.warn(
          `Shutdown: ${left} jobs did not stop within ${SHUTDOWN_RELEASE_TIMEOUT_MS} ms of the signal; force-closing the workers ` +
            `(another worker takes those jobs up once their lock expires, after about ${this.config.jobs.lockDurationMs} ms)`,
        );
        for (const { worker } of closing.filter((entry) => !entry.closed)) {
          void worker.close(true).catch(() => undefined);
          await worker.disconnect().catch(() => undefined);
        }
      }
    } else if (atStart > 0) {
      this.logger.log(`Shutdown: ${atStart} running jobs finished`);
    }
  }
}

/** Resolves true when `promise` settles within `ms`, false otherwise (the promise keeps running). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
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

/** A client for one quick check: connects on demand, never retries, gives up after `timeoutMs`. */
function oneShotRedis(url: string, timeoutMs: number): Redis {
  const client = new Redis({
    ...redisOptionsFromUrl(url),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  return client;
}

/**
 * Connects once to Redis, without retrying, and sends PING.
 * @throws Error within about `timeoutMs` saying that Redis is not reachable and how to start it.
 */
export async function probeRedis(url: string, timeoutMs = 3000): Promise<void> {
  const client = oneShotRedis(url, timeoutMs);
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

/**
 * Reads Redis's `maxmemory-policy` (one connection, no retries).
 * @returns the warning to give when it is not `noeviction` or could not be read (managed Redis
 * often refuses CONFIG), undefined when it is `noeviction`. Never throws.
 */
export async function redisPolicyWarning(url: string, timeoutMs = 3000): Promise<string | undefined> {
  const client = oneShotRedis(url, timeoutMs);
  try {
    await client.connect();
    const reply = (await client.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1];
    if (policy === undefined) throw new Error('CONFIG GET returned nothing');
    if (policy === 'noeviction') return undefined;
    return (
      `Redis maxmemory-policy is "${policy}", not "noeviction": when Redis reaches maxmemory it may evict queue keys ` +
      'and queued or running jobs are lost; fix it with `redis-cli CONFIG SET maxmemory-policy noeviction` and ' +
      '`maxmemory-policy noeviction` in redis.conf (or the managed service\'s settings).'
    );
  } catch (error) {
    return (
      `Could not check Redis maxmemory-policy (${(error as Error).message || 'no answer'}): make sure it is "noeviction", ` +
      'otherwise Redis may evict queue keys under memory pressure and jobs are lost ' +
      '(`maxmemory-policy noeviction` in redis.conf or the managed service\'s settings).'
    );
  } finally {
    client.disconnect();
  }
}
