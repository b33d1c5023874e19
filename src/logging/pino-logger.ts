import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';

/**
 * NestJS logger backed by pino: structured JSON lines to stdout (`serve`, `worker`) or to a file
 * (`run`, whose terminal shows progress bars instead).
 */
export class PinoLoggerService implements LoggerService {
  readonly pino: Logger;

  constructor(options: { level: string; file?: string }) {
    this.pino = pino(
      { level: options.level, base: undefined },
      options.file
        ? pino.destination({ dest: options.file, mkdir: true, sync: false })
        : pino.destination({ dest: 1, sync: true }), // lines appear as they happen (containers, supervisors)
    );
  }

  log(message: unknown, context?: string): void {
    this.pino.info({ context }, String(message));
  }

  error(message: unknown, trace?: string, context?: string): void {
    this.pino.error({ context, trace }, String(message));
  }

  warn(message: unknown, context?: string): void {
    this.pino.warn({ context }, String(message));
  }

  debug(message: unknown, context?: string): void {
    this.pino.debug({ context }, String(message));
  }

  verbose(message: unknown, context?: string): void {
    this.pino.trace({ context }, String(message));
  }

  /** Writes out buffered lines; call before the process exits. */
  flush(): void {
    this.pino.flush();
  }
}
