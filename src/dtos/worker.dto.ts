import { ApiProperty } from '@nestjs/swagger';

/** A step run a worker is running now. */
export class WorkerRunDto {
  @ApiProperty({ format: 'uuid', description: 'The story the step belongs to', example: '4f1c2b8e-6d3a-4c1e-9b7f-2a5d8e0c1f34' })
  storyId!: string;

  @ApiProperty({ enum: ['story', 'images', 'audio', 'merge', 'video'], description: 'The step', example: 'video' })
  step!: string;

  @ApiProperty({ nullable: true, type: Number, description: '0-based chunk index (images, audio); null for whole-story steps', example: null })
  chunkIndex!: number | null;

  @ApiProperty({ description: '1-based attempt of the job', example: 1 })
  attempt!: number;

  @ApiProperty({ format: 'date-time', description: 'When this run began', example: '2026-12-05T15:20:00.000Z' })
  startedAt!: string;
}

/** A live worker process (its heartbeat is fresh) and what it runs. */
export class WorkerDto {
  @ApiProperty({ format: 'uuid', description: 'The worker process (one per process start)', example: '9b2e7d14-3c5a-4f8e-a1d6-7e0f2c4b8a91' })
  id!: string;

  @ApiProperty({ description: 'Host name of the machine it runs on', example: 'worker-2' })
  host!: string;

  @ApiProperty({ description: 'Process id on that host', example: 4123 })
  pid!: number;

  @ApiProperty({ enum: ['running', 'draining'], description: '`draining`: takes no new job, exits once its running jobs finish', example: 'running' })
  state!: string;

  @ApiProperty({ format: 'date-time', description: 'When the process started', example: '2026-12-05T14:00:00.000Z' })
  startedAt!: string;

  @ApiProperty({ format: 'date-time', description: 'Last heartbeat (renewed every WORKER_HEARTBEAT_MS)', example: '2026-12-05T15:21:03.000Z' })
  heartbeatAt!: string;

  @ApiProperty({ type: [WorkerRunDto], description: 'The step runs it is running now, oldest first' })
  running!: WorkerRunDto[];
}

/** `GET /admin/workers`. */
export class WorkerListDto {
  @ApiProperty({ type: [WorkerDto], description: 'Live workers, oldest first' })
  workers!: WorkerDto[];
}

/** `POST /admin/workers/:id/drain`. */
export class WorkerDrainDto {
  @ApiProperty({ description: 'Whether a live worker that was not draining yet was asked to drain', example: true })
  drained!: boolean;
}
