import type { DynamicModule, INestApplicationContext } from '@nestjs/common';
import { Logger as NestPinoLogger, LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { type AppConfig } from '../config/config.js';
import { createRootLogger, httpLoggerOptions, secretsOf } from './logger.js';

/**
 * nestjs-pino's module around a process's root logger. It mounts no middleware of its own: the
 * HTTP request logger (pino-http) is mounted ahead of everything else by the HTTP app, which also
 * runs each request in a logging context holding its `requestId` (see useRequestLogging).
 */
export function loggingModule(root: Logger): DynamicModule {
  return LoggerModule.forRoot({ pinoHttp: httpLoggerOptions(root), useExisting: true, forRoutes: [] });
}

/** The root logger of a process started from `config`: LOG_LEVEL, LOG_FORMAT, its secrets blanked. */
export function rootLoggerFor(config: AppConfig, options: { file?: string } = {}): Logger {
  return createRootLogger({ level: config.logLevel, format: config.logFormat, file: options.file, secrets: secretsOf(config) });
}

/**
 * Makes nestjs-pino's logger the application's logger (NestJS's own messages and every
 * `new Logger(context)` in the code); the application must be created with `bufferLogs: true`
 * so that lines from its start-up come out through it too.
 */
export function usePinoLogger(app: INestApplicationContext): void {
  app.useLogger(app.get(NestPinoLogger));
  app.flushLogs();
}
