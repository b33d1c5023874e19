import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pg from 'pg';
import { AppModule } from '../../src/app/app.module.js';
import { type AppConfig, loadConfig } from '../../src/config/config.js';
import { LocalStorageRepository } from '../../src/repositories/local-storage.repository.js';
import { QueueRepository } from '../../src/repositories/queue.repository.js';
import { StorageRepository } from '../../src/repositories/storage.repository.js';
import { removeRedisKeys } from './redis.js';
import { releaseAll } from './release.js';

/** PostgreSQL server the tests create their databases on (trust auth on this machine). */
export const TEST_POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestApp {
  app: INestApplicationContext;
  config: AppConfig;
  close(): Promise<void>;
}

/** Creates an empty database on the test server; returns its URL and a function that drops it. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `storyforge_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * Starts the application with workers on real Redis (a private queue prefix) and real PostgreSQL
 * (a fresh database) or embedded PGlite (a fresh data directory). `env` overrides configuration.
 */
export async function startTestApp(options: { database: 'postgres' | 'pglite'; env?: Record<string, string> }): Promise<TestApp> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-test-'));
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let app: INestApplicationContext | undefined;
  let config: AppConfig | undefined;
  // Also when starting fails half-way: what was made is released, not left to the next tests.
  const release = () =>
    releaseAll([
      async () => app && (await app.get(QueueRepository).obliterate().catch(() => undefined)),
      () => app?.close(),
      () => config && removeRedisKeys(config.redisUrl, config.queuePrefix),
      () => database?.drop(),
      () => fs.rm(dataDir, { recursive: true, force: true }),
    ]);
  try {
    database = options.database === 'postgres' ? await createTestDatabase() : undefined;
    config = loadConfig({
      DATA_DIR: dataDir,
      QUEUE_PREFIX: `sftest-${randomBytes(4).toString('hex')}`,
      JOB_BACKOFF_MS: '200',
      LOG_LEVEL: 'warn',
      ...(database ? { DATABASE_URL: database.url } : {}),
      ...options.env,
    });
    app = await NestFactory.createApplicationContext(AppModule.forRoot({ config, workers: true, http: false }), {
      logger: ['error'],
    });
    await app.init();
  } catch (error) {
    await release().catch(() => undefined);
    throw error;
  }
  return { app, config, close: release };
}

/** Polls `check` every 200 ms until it returns a value, or throws after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 120_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The application's storage as the local folder driver (the default, STORAGE_DRIVER=local), for
 * tests that read stored files with tools. @throws Error when the app stores in a bucket.
 */
export function localStorageOf(app: INestApplicationContext): LocalStorageRepository {
  const storage = app.get(StorageRepository);
  if (!(storage instanceof LocalStorageRepository)) throw new Error('The application does not store files in a local folder');
  return storage;
}
