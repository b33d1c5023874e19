import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { PinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { httpLoggerOptions } from '../logging/logger.js';
import { httpRequestDuration } from '../observability/metrics.js';

/** Where the queue dashboard is served (Bull Board). */
export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/**
 * The route label of a finished request: the matched route's pattern (`/stories/:id`), the queue
 * dashboard as one route, and `other` for everything else (the web page's files, unknown paths),
 * so that the label's values stay few.
 */
export function routeLabel(request: Request): string {
  const route = (request as Request & { route?: { path?: unknown } }).route;
  if (route && typeof route.path === 'string') return `${request.baseUrl}${route.path}` || '/';
  if (request.originalUrl.startsWith(QUEUE_DASHBOARD_PATH)) return QUEUE_DASHBOARD_PATH;
  return 'other';
}

/**
 * Mounts, ahead of every other middleware, the request logger (pino-http: a request id from a
 * sane X-Request-Id or a new one, sent back in X-Request-Id, one line per request), a logging
 * context so that every line NestJS code logs while serving the request carries its `requestId`
 * (nestjs-pino's runInContext), and the HTTP duration metric
 * (`storyforge_http_request_duration_seconds` by method, route and status).
 * Call right after the application is created.
 */
export async function useRequestLogging(app: NestExpressApplication, root: Logger): Promise<void> {
  app.use(pinoHttp(httpLoggerOptions(root)));
  const nestLogger = await app.resolve(PinoLogger);
  app.use((request: Request, _response: Response, next: NextFunction) => {
    nestLogger.runInContext(next, { bindings: { requestId: (request as Request & { id?: unknown }).id } });
  });
  app.use((request: Request, response: Response, next: NextFunction) => {
    const started = performance.now();
    response.once('finish', () => {
      httpRequestDuration.observe(
        { method: request.method, route: routeLabel(request), status: String(response.statusCode) },
        (performance.now() - started) / 1000,
      );
    });
    next();
  });
}
