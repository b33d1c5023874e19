import { ApiProperty } from '@nestjs/swagger';
import { BatchStatusDto } from './batch.dto.js';
import { StoryDetailDto } from './story-response.dto.js';

/** Answer of a batch retry: which stories started again, and the batch as it is now. */
export class BatchRetryDto {
  @ApiProperty({
    description: 'Stories restarted from where they stopped (failed or cancelled ones); empty when there was nothing to retry',
    example: ['5a7c9e1b-2d4f-4a6c-8e0b-1c3d5e7f9a2b'],
    type: [String],
  })
  retried!: string[];

  @ApiProperty({ description: 'The batch after the retry', type: BatchStatusDto })
  batch!: BatchStatusDto;
}

/** Answer of a batch cancel. */
export class BatchCancelDto {
  @ApiProperty({ description: 'True when this request cancelled the batch; false when it was cancelled already', example: true })
  cancelled!: boolean;

  @ApiProperty({ description: 'The batch after the cancel', type: BatchStatusDto })
  batch!: BatchStatusDto;
}

/** Answer of a story retry or cancel. */
export class StoryRecoveryDto {
  @ApiProperty({ description: 'True when this request changed the story; false when there was nothing to do (a second call)', example: true })
  changed!: boolean;

  @ApiProperty({ description: 'The story after the request', type: StoryDetailDto })
  story!: StoryDetailDto;
}
