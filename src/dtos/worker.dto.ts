import { ApiProperty } from '@nestjs/swagger';

/** A step run a worker is running now. */
export class WorkerRunDto {
  @ApiProperty({ format: 'uuid' })
  storyId!: string;

  @ApiProperty({ enum: ['story', 'images', 'audio', 'merge', 'video'], example: 'video' })
  step!: string;

  @ApiProperty({ nullable: true, type: Number, description: '0-based chunk index (images, audio); null for whole-story steps', example: null })
  chunkIndex!: number | null;

  @ApiProperty({ description: '1-based attempt of the job', example: 1 })
  attempt!: number;

  @ApiProperty({ format: 'date-time' })
  startedAt!: string;
}

/** A live worker process (its heartbeat is fresh) and what it runs. */
export class WorkerDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'worker-2' })
  host!: string;

  @ApiProperty({ example: 4123 })
  pid!: number;

  @ApiProperty({ enum: ['running', 'draining'], description: '`draining`: takes no new job, exits once its running jobs finish' })
  state!: string;

  @ApiProperty({ format: 'date-time' })
  startedAt!: string;

  @ApiProperty({ format: 'date-time', description: 'Last heartbeat (renewed every WORKER_HEARTBEAT_MS)' })
  heartbeatAt!: string;

  @ApiProperty({ type: [WorkerRunDto] })
  running!: WorkerRunDto[];
}

/** `GET /admin/workers`. */
export class WorkerListDto {
  @ApiProperty({ type: [WorkerDto] })
  workers!: WorkerDto[];
}

/** `POST /admin/workers/:id/drain`. */
export class WorkerDrainDto {
  @ApiProperty({ description: 'Whether a live worker that was not draining yet was asked to drain' })
  drained!: boolean;
}
