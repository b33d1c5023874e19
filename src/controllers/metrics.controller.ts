import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/decorators.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { ErrorResponseDto } from '../dtos/error.dto.js';
import { ApiError } from '../shared/api-error.js';
import { metricsAccess } from '../observability/metrics-access.js';
import { METRICS_CONTENT_TYPE, renderMetrics } from '../observability/metrics.js';

/**
 * `GET /metrics`: this process's Prometheus metrics (docs/monitoring.md). Not behind the user
 * login: it takes METRICS_TOKEN as a bearer token, or answers only to this machine when none is set.
 */
@ApiTags('monitoring')
@Public()
@Controller()
export class MetricsController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @Get('metrics')
  @ApiOperation({ summary: 'Prometheus metrics of this process (METRICS_TOKEN as a bearer token, or from this machine only when it is unset)' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text format 0.0.4', schema: { type: 'string', example: 'storyforge_step_duration_seconds_count{step="images",provider="card",outcome="done"} 8' } })
  @ApiResponse({ status: 401, description: 'METRICS_TOKEN is set and was not given (`unauthorized`)', type: ErrorResponseDto })
  @ApiResponse({ status: 403, description: 'No METRICS_TOKEN is set and the request came from another machine (`forbidden`)', type: ErrorResponseDto })
  async metrics(@Req() request: Request, @Res() response: Response): Promise<void> {
    const access = metricsAccess(this.config.metrics.token, request.headers.authorization, request.socket.remoteAddress);
    if (!access.ok) throw new ApiError(access.status, access.code, access.message);
    response.setHeader('Content-Type', METRICS_CONTENT_TYPE);
    response.send(await renderMetrics());
  }
}
