import { ApiProperty } from '@nestjs/swagger';

/** `GET /health`: the process is up and serving HTTP; nothing else was checked. */
export class HealthDto {
  @ApiProperty({ description: 'Always `ok`: the process is up and answers HTTP (liveness only; `/ready` checks the dependencies)', example: 'ok' })
  status!: 'ok';
}

/** One dependency's state in `GET /ready`. */
export class DependencyStateDto {
  @ApiProperty({ description: '`up` when it answered within the check time, else `down`', enum: ['up', 'down'], example: 'up' })
  status!: 'up' | 'down';
}

/** Redis's state in `GET /ready`. */
export class RedisStateDto extends DependencyStateDto {
  @ApiProperty({ description: "Redis's `maxmemory-policy` (`noeviction` is required; `unknown` when Redis does not let it be read)", example: 'noeviction', required: false })
  maxmemoryPolicy?: string;
}

/** The database's state in `GET /ready`. */
export class DatabaseStateDto extends DependencyStateDto {
  @ApiProperty({ description: 'The database in use: a PostgreSQL server or embedded PGlite', enum: ['postgres', 'pglite'], example: 'postgres' })
  kind!: 'postgres' | 'pglite';
}

/** The checks of `GET /ready`, each `up` or `down`. */
export class ReadinessChecksDto {
  @ApiProperty({ type: DatabaseStateDto, description: 'The database answers `SELECT 1`' })
  database!: DatabaseStateDto;

  @ApiProperty({ type: RedisStateDto, description: 'Redis (queues, live events, rate limits) answers PING and keeps every key (`noeviction`)' })
  redis!: RedisStateDto;

  @ApiProperty({ type: DependencyStateDto, description: 'A file can be written to and removed from DATA_DIR, and the artifact storage (folder or bucket) takes one' })
  storage!: DependencyStateDto;

  @ApiProperty({ type: DependencyStateDto, required: false, description: 'ffmpeg and ffprobe run (a process with workers only)' })
  ffmpeg?: DependencyStateDto;

  @ApiProperty({ type: DependencyStateDto, required: false, description: 'espeak-ng runs (a process with workers whose speech choices use it)' })
  'espeak-ng'?: DependencyStateDto;

  @ApiProperty({ type: DependencyStateDto, required: false, description: 'The queue workers are taking jobs (a process with workers only)' })
  workers?: DependencyStateDto;
}

/** `GET /ready`: every check passed now. */
export class ReadyDto extends ReadinessChecksDto {
  @ApiProperty({ description: '`ready` when every check passed', enum: ['ready'], example: 'ready' })
  status!: 'ready';
}

/** `GET /ready` when something is down: the common error body, the failing checks, and each check's state. */
export class NotReadyDto extends ReadinessChecksDto {
  @ApiProperty({ description: 'HTTP status, repeated', example: 503 })
  statusCode!: 503;

  @ApiProperty({ description: 'Stable reason', example: 'not-ready' })
  code!: 'not-ready';

  @ApiProperty({ description: 'The failing checks, for a person', example: 'Not ready: database is down' })
  message!: string;

  @ApiProperty({ description: 'Always `not-ready` here', enum: ['not-ready'], example: 'not-ready' })
  status!: 'not-ready';

  @ApiProperty({ description: 'The checks that failed, by name', example: ['database'], type: [String], enum: ['database', 'redis', 'storage', 'ffmpeg', 'espeak-ng', 'workers'] })
  failing!: string[];
}
