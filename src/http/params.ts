import { Param, ParseIntPipe, ParseUUIDPipe } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { ApiError } from './api-error.js';

/** A route parameter that must be a UUID; otherwise 400 `validation-failed` naming it. */
export const UuidParam = (name: string) =>
  Param(
    name,
    new ParseUUIDPipe({
      exceptionFactory: () => new ApiError(400, 'validation-failed', `${name} must be a UUID`, [{ field: name, message: `${name} must be a UUID` }]),
    }),
  );

/** A route parameter that must be a whole number ≥ 0; otherwise 400 `validation-failed` naming it. */
export const IndexParam = (name: string) =>
  Param(
    name,
    new ParseIntPipe({
      exceptionFactory: () => new ApiError(400, 'validation-failed', `${name} must be a whole number from 0`, [{ field: name, message: `${name} must be a whole number from 0` }]),
    }),
  );

/** OpenAPI: describes a UUID path parameter. */
export const ApiUuidParam = (name: string, description: string) =>
  ApiParam({ name, description, format: 'uuid', example: '5a7c9e1b-2d4f-4a6c-8e0b-1c3d5e7f9a2b' });

/** OpenAPI: describes a chunk index path parameter. */
export const ApiIndexParam = (name: string, description: string) =>
  ApiParam({ name, description, schema: { type: 'integer', minimum: 0 }, example: 0 });
