import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ description: 'Path of the field in the request (nested with dots, arrays with [i])', example: 'autoMode.wordPerChunkImage' })
  field!: string;

  @ApiProperty({ description: 'What is wrong with it', example: 'wordPerChunkImage must not be less than 10' })
  message!: string;
}

/** The body of every 4xx and 5xx answer. */
export class ErrorResponseDto {
  @ApiProperty({ description: 'HTTP status, repeated', example: 400 })
  statusCode!: number;

  @ApiProperty({
    description:
      'Stable reason for programs: validation-failed, bad-request, unauthorized, invalid-credentials, not-found, email-taken, ' +
      'step-not-ready, step-not-startable, step-running, step-failed, story-cancelled, batch-ended, ' +
      'idempotency-key-reused, idempotency-request-in-progress, idempotency-resource-deleted, invalid-idempotency-key, too-many-files, unexpected-file, missing-file, file-too-large, unsupported-format, ' +
      'invalid-file-name, unsupported-media-type, binary-content, empty-file, no-text, unreadable-encoding, corrupt-document, encrypted-document, range-not-satisfiable, ' +
      'too-many-requests, internal-error …',
    example: 'validation-failed',
  })
  code!: string;

  @ApiProperty({ description: 'What went wrong, for a person', example: 'The request has 2 invalid fields: autoMode.wordPerChunkImage, style.length' })
  message!: string;

  @ApiPropertyOptional({ description: 'Per-field problems (validation errors, refused files)', type: [FieldErrorDto] })
  errors?: FieldErrorDto[];
}
