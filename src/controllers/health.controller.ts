import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/decorators.js';
import { DATABASE, type DatabaseConnection } from '../db/database.js';
import { HealthDto } from '../dtos/health.dto.js';
import { QueueRepository } from '../repositories/queue.repository.js';

/** Liveness and readiness: answers 200 with the database kind when PostgreSQL and Redis answer. */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @Inject(DATABASE) private readonly database: DatabaseConnection,
    private readonly queues: QueueRepository,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Liveness and readiness (no token needed)' })
  @ApiOkResponse({ type: HealthDto })
  async health(): Promise<{ status: 'ok'; database: DatabaseConnection['kind']; redis: 'ok' }> {
    await this.queues.ping();
    return { status: 'ok', database: this.database.kind, redis: 'ok' };
  }
}
