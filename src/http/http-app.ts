import { type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from '../app.module.js';
import type { AppConfig } from '../config/config.js';
import { RedisIoAdapter } from '../gateways/redis-io.adapter.js';
import { ApiExceptionFilter } from './error.filter.js';
import { setupSwagger } from './swagger.js';
import { createValidationPipe } from './validation.js';
import { serveWebPage } from './web-page.js';

/** Headers a browser client may read on cross-origin answers. */
const EXPOSED_HEADERS = ['Content-Disposition', 'Content-Range', 'Accept-Ranges', 'Content-Length', 'Retry-After-auth', 'Retry-After-upload', 'Idempotent-Replayed'];

/**
 * Builds the HTTP application exactly as `storyforge serve` runs it (tests use this too): the
 * request validation, the error body filter, CORS from CORS_ORIGINS, JSON bodies up to
 * UPLOAD_MAX_BYTES, Socket.IO with the Redis adapter, Swagger at /docs (/docs-json), and the web
 * page at / when it is built (dist/web).
 * Call `listen` on the result.
 * @param workers also run the queue workers in this process.
 * @throws Error when Redis does not answer.
 */
export async function createHttpApp(
  config: AppConfig,
  options: { workers: boolean; logger?: LoggerService | false | ('error' | 'warn' | 'log')[] },
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot({ config, workers: options.workers, http: true }), {
    logger: options.logger,
  });
  app.disable('x-powered-by');
  app.set('trust proxy', config.http.trustProxy);
  app.useBodyParser('json', { limit: config.http.upload.maxBytes + 64 * 1024 });
  if (config.http.corsOrigins.length) {
    app.enableCors({ origin: config.http.corsOrigins, credentials: true, exposedHeaders: EXPOSED_HEADERS, maxAge: 600 });
  }
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ApiExceptionFilter(config));
  const adapter = new RedisIoAdapter(app, config);
  await adapter.connect();
  app.useWebSocketAdapter(adapter);
  setupSwagger(app);
  serveWebPage(app);
  return app;
}
