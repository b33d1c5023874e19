import { ApiProperty } from '@nestjs/swagger';

/** `GET /health`: the process is up and serving HTTP; nothing else was checked. */
export class HealthDto {
  @ApiProperty({ description: 'Always `ok`: the process is up and answers HTTP (liveness only; `/ready` checks the database and Redis)', example: 'ok' })
  status!: 'ok';
}

/** One dependency's state in `GET /ready`. */
export class DependencyStateDto {
  @ApiProperty({ description: '`up` when it answered within the check time, else `down`', enum: ['up', 'down'], example: 'up' })
  status!: 'up' | 'down';
}

/** The database's state in `GET /ready`. */
export class DatabaseStateDto extends DependencyStateDto {
  @ApiProperty({ description: 'The database in use: a PostgreSQL server or embedded PGlite', enum: ['postgres', 'pglite'], example: 'postgres' })
  kind!: 'postgres' | 'pglite';
}

/** `GET /ready`: whether the database and Redis answer now. */
export class ReadyDto {
  @ApiProperty({ description: '`ready` when the database and Redis both answered', enum: ['ready'], example: 'ready' })
  status!: 'ready';

  @ApiProperty({ type: DatabaseStateDto, description: 'The database: its kind and whether it answered' })
  database!: DatabaseStateDto;

  @ApiProperty({ type: DependencyStateDto, description: 'Redis (queues, live events, rate limits): whether it answered' })
  redis!: DependencyStateDto;
}

/** `GET /ready` when something is down: the common error body plus each dependency's state. */
export class NotReadyDto {
  @ApiProperty({ description: 'HTTP status, repeated', example: 503 })
  statusCode!: 503;

  @ApiProperty({ description: 'Stable reason', example: 'not-ready' })
  code!: 'not-ready';

  @ApiProperty({ description: 'What does not answer, for a person', example: 'Not ready: the database (postgres) does not answer' })
  message!: string;

  @ApiProperty({ description: 'Always `not-ready` here', enum: ['not-ready'], example: 'not-ready' })
  status!: 'not-ready';

  @ApiProperty({ type: DatabaseStateDto, description: 'The database: its kind and whether it answered' })
  database!: DatabaseStateDto;

  @ApiProperty({ type: DependencyStateDto, description: 'Redis (queues, live events, rate limits): whether it answered' })
  redis!: DependencyStateDto;
}
