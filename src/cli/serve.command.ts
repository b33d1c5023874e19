import { type INestApplicationContext, ShutdownSignal } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app/app.module.js';
import { createHttpApp } from '../app/http-app.js';
import type { AppConfig } from '../config/config.js';
import { rootLoggerFor, usePinoLogger } from '../logging/pino-logger.js';
import { startMetricsServer } from '../app/metrics-server.js';
import { ReadinessService } from '../services/readiness.service.js';
import { DRAIN_SIGNAL, WorkerHeartbeatService } from '../pipeline/worker-heartbeat.service.js';
import { QueueRepository } from '../repositories/queue.repository.js';
import { EXIT } from './exit-codes.js';
import { checkBinaries } from './preflight.js';

/**
 * `storyforge serve`: the HTTP API (REST, Socket.IO, /docs) and, unless `workers` is false, queue
 * workers in one process, until SIGTERM or SIGINT, or until its workers are drained (then it exits
 * with status 0, API included). Shutdown is graceful: the server stops taking connections, running
 * jobs finish, then Redis and the database close.
 */
export async function serveCommand(config: AppConfig, port = config.http.port, options: { workers?: boolean } = {}): Promise<void> {
  const workers = options.workers ?? true;
  if (!workers && !config.databaseUrl) {
    throw new Error('storyforge serve --no-workers needs DATABASE_URL: workers in other processes cannot share the embedded PGlite database.');
  }
  if (workers) await checkBinaries(config);
  const root = rootLoggerFor(config);
  const app = await createHttpApp(config, { workers, rootLogger: root });
  stopOnSignalsAndDrain(app);
  root.info({ context: 'Startup' }, `Connecting to Redis at ${redisAddress(config.redisUrl)}`);
  await app.get(QueueRepository).ping();
  await app.get(QueueRepository).checkRedisPolicy();
  await app.listen(port, config.http.host);
  root.info({ context: 'Storyforge' }, `Listening on http://${config.http.host}:${port} (metrics at /metrics)`);
}

/**
 * `storyforge worker`: queue workers only, for more worker hosts. Its metrics, `/health` and
 * `/ready` are served on METRICS_HOST:METRICS_PORT (unless the port is 0), since it has no API.
 * @throws Error when DATABASE_URL is unset (embedded PGlite cannot be shared between processes).
 */
export async function workerCommand(config: AppConfig): Promise<void> {
  if (!config.databaseUrl) {
    throw new Error('storyforge worker needs DATABASE_URL: the embedded PGlite database serves one process only. Use `storyforge serve` for a single process.');
  }
  await checkBinaries(config);
  const root = rootLoggerFor(config);
  const app = await NestFactory.createApplicationContext(AppModule.forRoot({ config, workers: true, http: false, logger: root }), {
    bufferLogs: true,
    abortOnError: false,
  });
  usePinoLogger(app);
  stopOnSignalsAndDrain(app);
  root.info({ context: 'Startup' }, `Connecting to Redis at ${redisAddress(config.redisUrl)}`);
  await app.get(QueueRepository).ping();
  await app.get(QueueRepository).checkRedisPolicy();
  let where = '';
  if (config.metrics.port) {
    const readiness = app.get(ReadinessService);
    try {
      const server = await startMetricsServer({ ...config.metrics, readiness: () => readiness.check() });
      server.unref();
      where = ` (metrics, /health and /ready at http://${server.host}:${server.port})`;
    } catch (error) {
      // The work matters more than its metrics: a second worker on a host with the same port still works.
      root.warn(
        { context: 'Storyforge' },
        `No metrics server: ${config.metrics.host}:${config.metrics.port} is not available (${(error as Error).message}); give each worker on a host its own METRICS_PORT, or 0 for none`,
      );
    }
  }
  root.info({ context: 'Storyforge' }, `Worker started${where}`);
}

/**
 * Nest's shutdown signals (SIGTERM, SIGINT, SIGHUP …) but the drain signal: by default Nest also
 * shuts down on SIGUSR2, which would cut a drain short (running jobs get SHUTDOWN_GRACE_MS only).
 */
const SHUTDOWN_SIGNALS = Object.values(ShutdownSignal).filter((signal) => signal !== DRAIN_SIGNAL);

/**
 * Graceful shutdown on {@link SHUTDOWN_SIGNALS}; a drained process (DRAIN_SIGNAL, `storyforge
 * worker drain`) closes the whole application, API included, and exits with status 0: a finished
 * drain is a clean stop, which service managers that restart failed processes only leave stopped.
 */
function stopOnSignalsAndDrain(app: INestApplicationContext): void {
  app.enableShutdownHooks(SHUTDOWN_SIGNALS);
  app.get(WorkerHeartbeatService).whenDrained(async () => {
    await app.close();
    process.exit(EXIT.ok);
  });
}

/** Host, port and database of a Redis URL, for messages (never its password). */
function redisAddress(redisUrl: string): string {
  try {
    const url = new URL(redisUrl);
    return `${url.hostname}:${url.port || '6379'}${url.pathname.length > 1 ? url.pathname : ''}`;
  } catch {
    return 'REDIS_URL';
  }
}
