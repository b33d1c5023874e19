import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

export class CreateApiKeyDto {
  @ApiProperty({ description: 'What the key is for, to tell keys apart later', example: 'nightly import script', maxLength: 100 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;
}

export class ApiKeyDto {
  @ApiProperty({ description: 'Key id', example: '4d1c7e0a-3b9f-4c51-8a26-0f7e9d2c1b3a', format: 'uuid' })
  id!: string;

  @ApiProperty({ description: 'What the key is for', example: 'nightly import script' })
  name!: string;

  @ApiProperty({ description: 'The first characters of the key, to recognise it (the rest is never shown again)', example: 'sfk_3f9a2c1b' })
  prefix!: string;

  @ApiProperty({ description: 'Last time the key was used (to the minute), or null', example: '2026-02-01T07:30:00.000Z', nullable: true, type: Date })
  lastUsedAt!: Date | null;

  @ApiProperty({ description: 'When the key was made', example: '2026-01-31T09:12:44.120Z' })
  createdAt!: Date;
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({
    description: 'The key. Shown this once only: send it as `X-API-Key: <key>` or `Authorization: Bearer <key>`',
    example: 'sfk_3f9a2c1b5e7d9f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071',
  })
  key!: string;
}
