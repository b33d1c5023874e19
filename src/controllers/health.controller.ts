import { Controller, Get, HttpStatus, Inject, Logger, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/decorators.js';
import { DATABASE, type DatabaseConnection } from '../db/database.js';
import { HealthDto, NotReadyDto, ReadyDto } from '../dtos/health.dto.js';
import { DATABASE_RETRY_AFTER_S } from '../http/error.filter.js';
import { QueueRepository } from '../repositories/queue.repository.js';

/**
 * How long `/ready` waits for each of the database and Redis, ms (they are asked at once, so the
 * answer comes within about this long even when both are down).
 */
export const READY_CHECK_TIMEOUT_MS = 2_000;

type State = 'up' | 'down';

/**
 * Liveness (`/health`: the process answers) and readiness (`/ready`: the database and Redis answer
 * now). Neither needs a token.
 */
@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  private readonly logger = new Logger('Ready');

  constructor(
    @Inject(DATABASE) private readonly database: DatabaseConnection,
    private readonly queues: QueueRepository,
  ) {}

  @Get('health')
  @ApiOperation({ summary: 'Liveness: the process is up (checks nothing else; no token needed)' })
  @ApiOkResponse({ type: HealthDto })
  health(): HealthDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: asks the database and Redis; 503 naming what is down (no token needed)' })
  @ApiOkResponse({ type: ReadyDto })
  @ApiResponse({ status: 503, description: 'The database or Redis does not answer (`not-ready`), with Retry-After', type: NotReadyDto })
  async ready(@Res({ passthrough: true }) response: Response): Promise<ReadyDto | NotReadyDto> {
    const [database, redis] = await Promise.all([
      this.check('database', () => this.database.ping(READY_CHECK_TIMEOUT_MS)),
      this.check('redis', () => this.queues.ping(READY_CHECK_TIMEOUT_MS)),
    ]);
    const states = { database: { kind: this.database.kind, status: database }, redis: { status: redis } };
    if (database === 'up' && redis === 'up') return { status: 'ready', ...states };
    const down = [database === 'down' ? `the database (${this.database.kind})` : '', redis === 'down' ? 'Redis' : ''].filter(Boolean);
    response.status(HttpStatus.SERVICE_UNAVAILABLE).setHeader('Retry-After', String(DATABASE_RETRY_AFTER_S));
    return { statusCode: 503, code: 'not-ready', message: `Not ready: ${down.join(' and ')} does not answer`, status: 'not-ready', ...states };
  }

  /** Runs one check; a failure is logged (with its reason, which the public answer leaves out). */
  private async check(name: string, ping: () => Promise<void>): Promise<State> {
    try {
      await ping();
      return 'up';
    } catch (error) {
      this.logger.warn(`${name} is down: ${(error as Error).message}`);
      return 'down';
    }
  }
}
