import { type ArgumentMetadata, ValidationPipe, type ValidationError } from '@nestjs/common';
import { ApiError, type FieldError } from '../shared/api-error.js';

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

/** 400 `validation-failed` with one `{ field, message }` per problem, naming each field once in the message. */
function validationFailed(fields: FieldError[]): ApiError {
  const names = [...new Set(fields.map((f) => f.field))];
  return new ApiError(400, 'validation-failed', `The request has ${names.length} invalid field${names.length === 1 ? '' : 's'}: ${names.join(', ')}`, fields);
}

/** Keys no request field is named: they would reach an object's prototype machinery. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Paths (`__proto__`, `autoMode.constructor`, `fileIds[0].prototype`) of the own keys of a parsed
 * body that are in {@link RESERVED_KEYS}, at any depth. JSON.parse makes `"__proto__"` an own
 * property, so it is found here before anything strips it.
 */
export function reservedKeyPaths(value: unknown): string[] {
  const found: string[] = [];
  const stack: { value: unknown; path: string }[] = [{ value, path: '' }];
  while (stack.length) {
    const current = stack.pop()!;
    if (current.value === null || typeof current.value !== 'object' || ArrayBuffer.isView(current.value)) continue;
    if (Array.isArray(current.value)) {
      for (const [i, item] of Object.entries(current.value)) stack.push({ value: item, path: `${current.path}[${i}]` });
      continue;
    }
    for (const key of Object.keys(current.value)) {
      const path = current.path ? `${current.path}.${key}` : key;
      if (RESERVED_KEYS.has(key)) found.push(path);
      else stack.push({ value: (current.value as Record<string, unknown>)[key], path });
    }
  }
  return found.sort();
}

/**
 * ValidationPipe with two rules of its own: path parameters are left as sent (their own pipes,
 * UuidParam and IndexParam, parse them strictly; the default `+value` took `0x1` and `1e1`), and
 * the reserved keys `__proto__`, `constructor` and `prototype` are refused as unknown fields
 * instead of being stripped silently.
 */
class StrictValidationPipe extends ValidationPipe {
  protected override transformPrimitive(value: unknown, metadata: ArgumentMetadata): unknown {
    return metadata.type === 'param' ? value : super.transformPrimitive(value, metadata);
  }

  protected override stripProtoKeys(value: unknown): void {
    const reserved = reservedKeyPaths(value);
    if (reserved.length) {
      throw validationFailed(reserved.map((field) => ({ field, message: `unknown field: ${field.split('.').at(-1)} is not part of this request` })));
    }
    super.stripProtoKeys(value);
  }
}

/**
 * The global validation of request bodies, queries and params: unknown fields are refused, values
 * are converted to the DTO's types, and every problem is answered at once as 400
 * `validation-failed` with one `{ field, message }` per problem.
 */
export function createValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => validationFailed(flattenValidationErrors(errors)),
  });
}
