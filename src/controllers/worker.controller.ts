import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../shared/auth-user.js';
import { Auth, Authenticated } from '../auth/decorators.js';
import { WorkerDrainDto, WorkerListDto } from '../dtos/worker.dto.js';
import { ApiErrors } from '../http/api-errors.decorator.js';
import { ApiUuidParam, UuidParam } from '../http/params.js';
import { WorkerFleetService } from '../services/worker-fleet.service.js';

/** The worker processes: which are alive and what they run; drain one (admins only). */
@ApiTags('workers')
@Authenticated()
@Controller('admin/workers')
export class WorkerController {
  constructor(private readonly fleet: WorkerFleetService) {}

  @Get()
  @ApiOperation({ summary: 'Live worker processes (fresh heartbeat), oldest first, with the step runs each is running (admins only)' })
  @ApiOkResponse({ type: WorkerListDto })
  @ApiErrors(401, 403)
  list(@Auth() auth: AuthUser): Promise<WorkerListDto> {
    return this.fleet.list(auth);
  }

  @Post(':id/drain')
  @ApiUuidParam('id', 'Worker id')
  @HttpCode(200)
  @ApiOperation({ summary: 'Ask a worker to drain: take no new job, finish what it runs, exit (admins only)' })
  @ApiOkResponse({ type: WorkerDrainDto })
  @ApiErrors(400, 401, 403)
  drain(@Auth() auth: AuthUser, @UuidParam('id') id: string): Promise<WorkerDrainDto> {
    return this.fleet.drain(auth, id);
  }
}
