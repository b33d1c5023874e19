import { ApiProperty } from '@nestjs/swagger';
import { batchStatus, type BatchJob } from '../db/schema.js';

/** One batch in the user's history (GET /stories/batches). */
export class BatchListItemDto {
  @ApiProperty({ description: 'Batch id', format: 'uuid', example: '2f4e6a8c-1b3d-4f5a-9c7e-0a2b4c6d8e1f' })
  id!: string;

  @ApiProperty({ description: 'Batch status as last recorded', enum: batchStatus.enumValues, example: 'completed' })
  status!: BatchJob['status'];

  @ApiProperty({ description: 'Number of stories (one per file)', example: 3 })
  totalFiles!: number;

  @ApiProperty({ description: 'Stories that ended', example: 3 })
  processedFiles!: number;

  @ApiProperty({ description: 'Stories that failed', example: 0 })
  failedFiles!: number;

  @ApiProperty({ description: 'Share of the work finished, 0–100, as last recorded', example: 100 })
  percentage!: number;

  @ApiProperty({ description: 'File names of its stories, in order (known once the batch has started)', type: [String], example: ['vi_thanh_giong.txt'] })
  files!: string[];

  @ApiProperty({ description: 'When it was made', example: '2026-12-05T08:30:00.000Z' })
  createdAt!: Date;

  @ApiProperty({ description: 'When it ended (null while it runs)', nullable: true, type: Date, example: '2026-12-05T08:34:12.000Z' })
  completedAt!: Date | null;
}

/** One page of the user's batches, newest first (GET /stories/batches). */
export class BatchPageDto {
  @ApiProperty({ description: 'The batches on this page, newest first', type: [BatchListItemDto] })
  items!: BatchListItemDto[];

  @ApiProperty({ description: 'This page number, from 1', example: 1 })
  page!: number;

  @ApiProperty({ description: 'Batches per page', example: 20 })
  limit!: number;

  @ApiProperty({ description: 'Batches in all', example: 42 })
  total!: number;
}

/** A stored batch as a history row. */
export function mapBatchListItem(batch: BatchJob): BatchListItemDto {
  return {
    id: batch.id,
    status: batch.status,
    totalFiles: batch.totalFiles,
    processedFiles: batch.processedFiles,
    failedFiles: batch.failedFiles,
    percentage: batch.progress?.percentage ?? 0,
    files: batch.results.map((result) => result.file),
    createdAt: batch.createdAt,
    completedAt: batch.completedAt,
  };
}
