import { createParamDecorator, type ExecutionContext, Param, ParseUUIDPipe, type PipeTransform } from '@nestjs/common';
import type { Request } from 'express';
import { ApiParam } from '@nestjs/swagger';
import { ApiError } from '../shared/api-error.js';
import { MAX_PARAM_NUMBER, parseDecimalParam } from '../shared/decimal-param.js';

/** A route parameter that must be a UUID; otherwise 400 `validation-failed` naming it. */
export const UuidParam = (name: string) =>
  Param(
    name,
    new ParseUUIDPipe({
      exceptionFactory: () => new ApiError(400, 'validation-failed', `${name} must be a UUID`, [{ field: name, message: `${name} must be a UUID` }]),
    }),
  );

/** Parses a chunk index with {@link parseDecimalParam}; 400 `validation-failed` naming the parameter otherwise. */
class IndexPipe implements PipeTransform<unknown, number> {
  constructor(private readonly name: string) {}

  transform(value: unknown): number {
    const index = parseDecimalParam(value);
    if (index === undefined) {
      const message = `${this.name} must be a whole number from 0 to ${MAX_PARAM_NUMBER} in decimal digits, without leading zeros`;
      throw new ApiError(400, 'validation-failed', message, [{ field: this.name, message }]);
    }
    return index;
  }
}

/** A route parameter that must be a chunk index (see {@link parseDecimalParam}); otherwise 400 `validation-failed` naming it. */
export const IndexParam = (name: string) => Param(name, new IndexPipe(name));

/** OpenAPI: describes a UUID path parameter. */
export const ApiUuidParam = (name: string, description: string) =>
  ApiParam({ name, description, format: 'uuid', example: '5a7c9e1b-2d4f-4a6c-8e0b-1c3d5e7f9a2b' });

/** OpenAPI: describes a chunk index path parameter. */
export const ApiIndexParam = (name: string, description: string) =>
  ApiParam({ name, description, schema: { type: 'integer', minimum: 0, maximum: MAX_PARAM_NUMBER, pattern: '^(0|[1-9][0-9]*)$' }, example: 0 });

/**
 * The `Idempotency-Key` request header exactly as sent, read from the raw header lines: undefined
 * when absent, the value (possibly empty, which IdempotencyService refuses) when sent once.
 * @throws ApiError 400 `invalid-idempotency-key` when it is sent more than once (Node would join
 * the values into one key, `a, b`).
 */
export const IdempotencyKeyHeader = createParamDecorator((_data: unknown, context: ExecutionContext): string | undefined => {
  const raw = context.switchToHttp().getRequest<Request>().rawHeaders;
  const sent: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'idempotency-key') sent.push(raw[i + 1]!);
  if (sent.length > 1) {
    throw new ApiError(400, 'invalid-idempotency-key', `The Idempotency-Key header was sent ${sent.length} times; send it once, with one key`);
  }
  return sent[0];
});
