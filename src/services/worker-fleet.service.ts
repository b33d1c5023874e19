import { Inject, Injectable } from '@nestjs/common';
import type { AuthUser } from '../shared/auth-user.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { WorkerDrainDto, WorkerListDto } from '../dtos/worker.dto.js';
import { ApiError } from '../shared/api-error.js';
import { UserRepository } from '../repositories/user.repository.js';
import { WorkerRepository } from '../repositories/worker.repository.js';

/** The worker processes of the installation, for admins: which are alive, what they run; drain one. */
@Injectable()
export class WorkerFleetService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly users: UserRepository,
    private readonly workers: WorkerRepository,
  ) {}

  /** Workers whose heartbeat is fresh (younger than WORKER_HEARTBEAT_TIMEOUT_MS), with their running step runs. @throws ApiError 403 for a non-admin. */
  async list(user: AuthUser): Promise<WorkerListDto> {
    await this.admin(user);
    const alive = await this.workers.listAlive(this.config.jobs.heartbeatTimeoutMs);
    return {
      workers: alive.map((worker) => ({
        id: worker.id,
        host: worker.host,
        pid: worker.pid,
        state: worker.state,
        startedAt: worker.startedAt.toISOString(),
        heartbeatAt: worker.heartbeatAt.toISOString(),
        running: worker.running.map((run) => ({ ...run, startedAt: run.startedAt.toISOString() })),
      })),
    };
  }

  /** Asks one live worker to drain (seen at its next heartbeat). @throws ApiError 403 for a non-admin. */
  async drain(user: AuthUser, workerId: string): Promise<WorkerDrainDto> {
    await this.admin(user);
    const asked = await this.workers.requestDrain({ workerId }, this.config.jobs.heartbeatTimeoutMs);
    return { drained: asked.length > 0 };
  }

  private async admin(user: AuthUser): Promise<void> {
    if (!(await this.users.get(user.id))?.isAdmin) throw new ApiError(403, 'forbidden', 'The worker list is for admins (storyforge user create --admin)');
  }
}
