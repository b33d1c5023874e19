import { type LoggerService } from '@nestjs/common';
import type { Logger } from 'pino';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { withQueryRetryBudget } from '../db/database.js';
import { RedisIoAdapter } from '../gateways/redis-io.adapter.js';
import { rootLoggerFor, usePinoLogger } from '../logging/pino-logger.js';
import { ContentTypeGuard } from '../http/content-type.guard.js';
import { ApiExceptionFilter } from '../http/error.filter.js';
import { useRequestLogging } from '../http/request-logging.js';
import { setupSwagger } from './swagger.js';
import { createValidationPipe } from '../http/validation.js';
import { serveQueueDashboard } from './queue-dashboard.js';
import { serveWebPage } from './web-page.js';

/** Headers a browser client may read on cross-origin answers. */
const EXPOSED_HEADERS = ['X-Request-Id', 'Content-Disposition', 'Content-Range', 'Accept-Ranges', 'Content-Length', 'Retry-After-auth', 'Retry-After-upload', 'Idempotent-Replayed'];

/**
 * How long a query of an HTTP request retries while PostgreSQL is unreachable, ms. Short, so that
 * a request answers 503 `database-unavailable` within seconds (plus at most one connect timeout,
 * `CONNECT_TIMEOUT_MS`) instead of hanging; workers keep their longer period.
 */
export const HTTP_QUERY_RETRY_MS = 2_000;

/**
 * Builds the HTTP application exactly as `storyforge serve` runs it (tests use this too): request
 * logs with a request id and HTTP metrics (useRequestLogging), the request validation, bodies only as JSON or multipart (ContentTypeGuard), the error body filter,
 * CORS from CORS_ORIGINS, JSON bodies up to UPLOAD_MAX_BYTES, Socket.IO with the Redis adapter,
 * Swagger at /docs (/docs-json), the queue dashboard for admins at /admin/queues, and the web page
 * at / when it is built (dist/web).
 * Call `listen` on the result.
 * @param options.workers also run the queue workers in this process.
 * @param options.rootLogger the process's pino logger (default: one from the configuration);
 * NestJS logs through it too unless `options.logger` names another logger for NestJS.
 * @throws Error when Redis does not answer.
 */
export async function createHttpApp(
  config: AppConfig,
  options: { workers: boolean; logger?: LoggerService | false | ('error' | 'warn' | 'log')[]; rootLogger?: Logger },
): Promise<NestExpressApplication> {
  const root = options.rootLogger ?? rootLoggerFor(config);
  const pinoForNest = options.logger === undefined;
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot({ config, workers: options.workers, http: true, logger: root }), {
    logger: pinoForNest ? undefined : options.logger,
    bufferLogs: pinoForNest,
    // JSON only (below); form-encoded bodies are refused by ContentTypeGuard.
    bodyParser: false,
  });
  if (pinoForNest) usePinoLogger(app);
  await useRequestLogging(app, root);
  app.disable('x-powered-by');
  app.use((_request: unknown, _response: unknown, next: () => void) => withQueryRetryBudget(HTTP_QUERY_RETRY_MS, next));
  app.set('trust proxy', config.http.trustProxy);
  app.useBodyParser('json', { limit: config.http.upload.maxBytes + 64 * 1024 });
  if (config.http.corsOrigins.length) {
    app.enableCors({ origin: config.http.corsOrigins, credentials: true, exposedHeaders: EXPOSED_HEADERS, maxAge: 600 });
  }
  app.useGlobalGuards(new ContentTypeGuard());
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ApiExceptionFilter(config));
  // The application's configuration: its queue prefix is the installation's (see AppModule).
  const adapter = new RedisIoAdapter(app, app.get<AppConfig>(APP_CONFIG));
  await adapter.connect();
  app.useWebSocketAdapter(adapter);
  setupSwagger(app);
  serveQueueDashboard(app);
  serveWebPage(app);
  return app;
}
