import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNumber, IsOptional, IsUUID, Max, Min } from 'class-validator';
import type { MusicFile } from '../db/schema.js';
import { DEFAULT_MUSIC_LEVELS, MUSIC_DUCKING_RANGE_DB, MUSIC_VOLUME_RANGE_DB } from '../media/soundtrack.js';

export class MusicFileDto {
  @ApiProperty({ description: 'Music file id: pass it as `autoMode.music.fileId` of POST /stories/batch-create', example: '3d9b1f2e-6a4c-4e8b-9f1a-2c3d4e5f6a7b', format: 'uuid' })
  id!: string;

  @ApiProperty({ description: 'File name as sent (UTF-8, NFC)', example: 'Quiet piano.mp3' })
  name!: string;

  @ApiProperty({ description: 'Size of the file, bytes', example: 3_145_728 })
  size!: number;

  @ApiProperty({ description: 'Container found in the content by ffprobe (not from the name)', enum: ['mp3', 'wav', 'ogg', 'm4a'], example: 'mp3' })
  format!: MusicFile['format'];

  @ApiProperty({ description: 'Codec of its audio stream', example: 'mp3' })
  codec!: string;

  @ApiProperty({ description: 'Length, ms (looped or cut to each video\'s length)', example: 95_000 })
  durationMs!: number;

  @ApiProperty({ description: 'When it was uploaded', example: '2026-01-31T09:12:44.120Z' })
  createdAt!: Date;
}

/** OpenAPI body of POST /file-upload/music. */
export class UploadMusicBodyDto {
  @ApiProperty({ description: 'One audio file: MP3, WAV, OGG or M4A (checked by its content), at least 1 s, at most 50 MB', type: 'string', format: 'binary' })
  file!: unknown;
}

/** `autoMode.music`: background music under the narration in the video. */
export class MusicOptionsDto {
  @ApiProperty({ description: 'Id of a music file uploaded with POST /file-upload/music', example: '3d9b1f2e-6a4c-4e8b-9f1a-2c3d4e5f6a7b', format: 'uuid' })
  @IsUUID('all')
  fileId!: string;

  @ApiPropertyOptional({
    description: 'Music loudness relative to the narration where no one speaks, dB (LU): -14 puts the music 14 dB under the voice',
    minimum: MUSIC_VOLUME_RANGE_DB.min,
    maximum: MUSIC_VOLUME_RANGE_DB.max,
    default: DEFAULT_MUSIC_LEVELS.volumeDb,
    example: -14,
  })
  @IsOptional()
  @IsNumber()
  @Min(MUSIC_VOLUME_RANGE_DB.min)
  @Max(MUSIC_VOLUME_RANGE_DB.max)
  volumeDb?: number;

  @ApiPropertyOptional({
    description: 'How much further the music drops while the voice speaks, dB (it comes back up in pauses); 0 turns ducking off',
    minimum: MUSIC_DUCKING_RANGE_DB.min,
    maximum: MUSIC_DUCKING_RANGE_DB.max,
    default: DEFAULT_MUSIC_LEVELS.duckingDb,
    example: 12,
  })
  @IsOptional()
  @IsNumber()
  @Min(MUSIC_DUCKING_RANGE_DB.min)
  @Max(MUSIC_DUCKING_RANGE_DB.max)
  duckingDb?: number;
}

/** A music file as the API shows it. */
export function mapMusicFile(file: MusicFile): MusicFileDto {
  return {
    id: file.id,
    name: file.originalName,
    size: file.sizeBytes,
    format: file.format,
    codec: file.codec,
    durationMs: file.durationMs,
    createdAt: file.createdAt,
  };
}
