import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/decorators.js';
import { HealthDto, NotReadyDto, ReadyDto } from '../dtos/health.dto.js';
import { DATABASE_RETRY_AFTER_S } from '../http/error.filter.js';
import { ReadinessService } from '../services/readiness.service.js';

export { READY_CHECK_TIMEOUT_MS } from '../services/readiness.service.js';

/**
 * Liveness (`/health`: the process answers) and readiness (`/ready`: the database, Redis,
 * storage and, where workers run, ffmpeg, espeak-ng and the workers themselves). Neither needs a token.
 */
@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get('health')
  @ApiOperation({ summary: 'Liveness: the process is up (checks nothing else; no token needed)' })
  @ApiOkResponse({ type: HealthDto })
  health(): HealthDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: database, Redis (noeviction), storage, and for a process with workers ffmpeg, espeak-ng and the workers; 503 naming each failing check (no token needed)' })
  @ApiOkResponse({ type: ReadyDto })
  @ApiResponse({ status: 503, description: 'A check failed (`not-ready`); `failing` names each, with Retry-After', type: NotReadyDto })
  async ready(@Res({ passthrough: true }) response: Response): Promise<ReadyDto | NotReadyDto> {
    const report = await this.readiness.check();
    if (report.ready) return { status: 'ready', ...report.checks } as unknown as ReadyDto;
    response.status(HttpStatus.SERVICE_UNAVAILABLE).setHeader('Retry-After', String(DATABASE_RETRY_AFTER_S));
    return notReadyBody(report);
  }
}

/** The 503 body of `/ready`: the common error body, the failing checks by name, and every check's state. */
export function notReadyBody(report: { checks: object; failing: string[] }): NotReadyDto {
  return {
    statusCode: 503,
    code: 'not-ready',
    message: `Not ready: ${report.failing.join(', ')} ${report.failing.length === 1 ? 'is' : 'are'} down`,
    status: 'not-ready',
    failing: report.failing,
    ...report.checks,
  } as unknown as NotReadyDto;
}
