import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../dtos/error.dto.js';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request: `validation-failed` with one entry per field in `errors`, or another 400 code',
  404: 'Not found, or not yours (`not-found`)',
  409: 'Not possible in the current state (`step-not-ready`, `step-not-startable`, `step-running`, `step-failed`, `story-cancelled`, `batch-ended`, `idempotency-key-reused`, `email-taken`)',
  413: 'A file is over UPLOAD_MAX_BYTES (`file-too-large`)',
  415: 'Not a .txt, .doc or .docx file (`unsupported-format`, `binary-content`)',
  416: 'The Range is outside the file (`range-not-satisfiable`)',
  422: 'A file could not be read as a story (`empty-file`, `no-text`, `unreadable-encoding`, `corrupt-document`, `encrypted-document`), or a provider that is not enabled',
};

/** OpenAPI: the error answers a route may give, each with the common error body. */
export const ApiErrors = (...statuses: number[]) =>
  applyDecorators(...statuses.map((status) => ApiResponse({ status, description: DESCRIPTIONS[status] ?? 'Error', type: ErrorResponseDto })));
