import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { DATABASE, type DatabaseConnection } from '../db/database.js';
import { RUN_WORKERS } from '../pipeline/pipeline.worker.js';
import { QueueRepository, redisOptionsFromUrl } from '../repositories/queue.repository.js';
import { StorageRepository } from '../repositories/storage.repository.js';

const run = promisify(execFile);

/**
 * How long `/ready` waits for the database, Redis and storage, ms. Checks run at once, so the
 * answer comes within about this long when they are down (ffmpeg and espeak-ng get longer, once a
 * minute).
 */
export const READY_CHECK_TIMEOUT_MS = 2_000;

/** How long ffmpeg or espeak-ng may take to print its version, ms (a busy host starts programs slowly). */
const BINARY_CHECK_TIMEOUT_MS = 10_000;

/** How long a working ffmpeg or espeak-ng is believed before it is run again, ms. */
const BINARY_CHECK_CACHE_MS = 60_000;

/** The names of the checks, in the order they are reported. */
export type ReadinessCheck = 'database' | 'redis' | 'storage' | 'ffmpeg' | 'espeak-ng' | 'workers';

/** One check's state: `up` or `down`, plus what it found (database kind, Redis policy). */
export interface CheckState {
  status: 'up' | 'down';
  [detail: string]: unknown;
}

/** The result of a readiness check. */
export interface ReadinessReport {
  ready: boolean;
  /** Each check's state. */
  checks: Partial<Record<ReadinessCheck, CheckState>>;
  /** The checks that are down, in report order. */
  failing: ReadinessCheck[];
}

/**
 * Readiness of this process (@nestjs/terminus): the database answers a query; Redis answers and
 * its `maxmemory-policy` is `noeviction` (a policy that cannot be read, as on some managed
 * services, is reported as `unknown` and passes); the data folder and the artifact storage (folder
 * or bucket) take a file; and in a
 * process that runs workers, ffmpeg and ffprobe (and espeak-ng when a speech choice uses it) run
 * and the queue workers are consuming. Why a check failed is logged, not reported.
 */
@Injectable()
export class ReadinessService {
  private readonly logger = new Logger('Ready');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DATABASE) private readonly database: DatabaseConnection,
    @Inject(RUN_WORKERS) private readonly runWorkers: boolean,
    private readonly queues: QueueRepository,
    private readonly storage: StorageRepository,
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
  ) {}

  /** Runs every check of this process at once. Never throws. */
  async check(): Promise<ReadinessReport> {
    const attempt = (key: ReadinessCheck, fn: () => Promise<Record<string, unknown> | void>) =>
      this.indicators
        .check(key)
        .attempt(async () => {
          try {
            return await fn();
          } catch (error) {
            this.logger.warn(`${key} is not ready: ${(error as Error).message}`);
            throw error;
          }
        })
        .withTimeout(READY_CHECK_TIMEOUT_MS);
    const binaries = (key: ReadinessCheck, programs: [file: string, flag: string][]) =>
      this.indicators
        .check(key)
        .attempt(async () => {
          for (const [file, flag] of programs) {
            try {
              await run(file, [flag], { timeout: BINARY_CHECK_TIMEOUT_MS });
            } catch (error) {
              this.logger.warn(`${key} (${file}) does not run: ${(error as Error).message}`);
              throw error;
            }
          }
        })
        .withTimeout(BINARY_CHECK_TIMEOUT_MS)
        .cacheFor(BINARY_CHECK_CACHE_MS);

    const indicators: (() => PromiseLike<HealthIndicatorResult>)[] = [
      () => attempt('database', async () => this.database.ping(READY_CHECK_TIMEOUT_MS)),
      () => attempt('redis', () => this.redisState()),
      () => attempt('storage', () => this.storageState()),
    ];
    if (this.runWorkers) {
      const { ffmpeg, ffprobe, espeakNg } = this.config.binaries;
      indicators.push(() => binaries('ffmpeg', [[ffmpeg, '-version'], [ffprobe, '-version']]));
      if (this.usesEspeak()) indicators.push(() => binaries('espeak-ng', [[espeakNg, '--version']]));
      indicators.push(() =>
        attempt('workers', async () => {
          if (!this.queues.consuming()) throw new Error('the queue workers are not consuming (stopped or shutting down)');
        }),
      );
    }
    const result = await this.health.check(indicators).catch((error: { getResponse?: () => unknown }) => {
      const response = error.getResponse?.();
      if (response && typeof response === 'object' && 'details' in response) return response as { details: HealthIndicatorResult };
      throw error;
    });
    const checks: ReadinessReport['checks'] = {};
    for (const [key, state] of Object.entries(result.details)) {
      const { status, responseTime: _time, cachedResponse: _cached, message: _message, ...details } = state as Record<string, unknown>;
      checks[key as ReadinessCheck] = { status: status === 'up' ? 'up' : 'down', ...details };
    }
    if (checks.database) checks.database.kind = this.database.kind;
    const failing = (Object.keys(checks) as ReadinessCheck[]).filter((key) => checks[key]!.status === 'down');
    return { ready: failing.length === 0, checks, failing };
  }

  private usesEspeak(): boolean {
    const speech = [this.config.providers.speechSynthesizer, ...this.config.providers.fallback.speech];
    return speech.some((spec) => spec.split(':')[0] === 'espeak-ng');
  }

  /** Redis answers PING; its maxmemory-policy is noeviction (or cannot be read). */
  private async redisState(): Promise<Record<string, unknown>> {
    const client = new Redis({
      ...redisOptionsFromUrl(this.config.redisUrl),
      lazyConnect: true,
      connectTimeout: READY_CHECK_TIMEOUT_MS,
      commandTimeout: READY_CHECK_TIMEOUT_MS,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      const policy = await client
        .config('GET', 'maxmemory-policy')
        .then((reply) => (reply as string[])[1])
        .catch(() => undefined);
      if (policy !== undefined && policy !== 'noeviction') {
        throw new Error(`maxmemory-policy is "${policy}"; it must be "noeviction", or Redis may evict queued jobs`);
      }
      return { maxmemoryPolicy: policy ?? 'unknown' };
    } finally {
      client.disconnect();
    }
  }

  /**
   * A file can be written to, read from and removed from the data directory (scratch of uploads),
   * and the artifact storage takes a file (the `files` folder, or the bucket).
   */
  private async storageState(): Promise<void> {
    const file = path.join(this.config.dataDir, `.ready-${process.pid}-${Date.now()}`);
    try {
      await fs.mkdir(this.config.dataDir, { recursive: true });
      await fs.writeFile(file, 'ready');
      await fs.readFile(file);
    } finally {
      await fs.rm(file, { force: true });
    }
    await this.storage.check();
  }
}
