import { ApiProperty } from '@nestjs/swagger';

export class HealthDto {
  @ApiProperty({ description: 'Always `ok` when the database and Redis answer', example: 'ok' })
  status!: 'ok';

  @ApiProperty({ description: 'The database in use: a PostgreSQL server or embedded PGlite', enum: ['postgres', 'pglite'], example: 'postgres' })
  database!: 'postgres' | 'pglite';

  @ApiProperty({ description: 'Always `ok` when Redis answers', example: 'ok' })
  redis!: 'ok';
}
