import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { ApiError, type FieldError } from './api-error.js';

/** Flattens class-validator's tree into `{ field, message }` pairs with dotted paths (`autoMode.wordPerChunkImage`, `fileIds[1]`). */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = !parent ? error.property : /^\d+$/.test(error.property) ? `${parent}[${error.property}]` : `${parent}.${error.property}`;
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field,
      message: message.replace(/^property (\S+) should not exist$/, 'unknown field: $1 is not part of this request'),
    }));
    return [...own, ...flattenValidationErrors(error.children ?? [], field)];
  });
}

/**
 * The global validation of request bodies, queries and params: unknown fields are refused, values
 * are converted to the DTO's types, and every problem is answered at once as 400
 * `validation-failed` with one `{ field, message }` per problem.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const fields = flattenValidationErrors(errors);
      const names = [...new Set(fields.map((f) => f.field))];
      return new ApiError(400, 'validation-failed', `The request has ${names.length} invalid field${names.length === 1 ? '' : 's'}: ${names.join(', ')}`, fields);
    },
  });
}
