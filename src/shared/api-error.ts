import { HttpException } from '@nestjs/common';

/** One problem with one field of a request (`field` is a path such as `autoMode.wordPerChunkImage` or `files[2]`). */
export interface FieldError {
  field: string;
  message: string;
}

/** The body of every 4xx and 5xx answer. */
export interface ErrorBody {
  /** HTTP status, repeated. */
  statusCode: number;
  /** Stable, machine-readable reason, e.g. `validation-failed`, `not-found`, `file-too-large`. */
  code: string;
  /** What went wrong, for a person. */
  message: string;
  /** Per-field problems (validation, uploads). */
  errors?: FieldError[];
}

/**
 * An error a client caused or may act on, with its status, stable code and optional field errors.
 * Services throw it; the exception filter answers with its {@link ErrorBody}.
 */
export class ApiError extends HttpException {
  constructor(
    status: number,
    readonly code: string,
    message: string,
    readonly errors?: FieldError[],
  ) {
    super({ statusCode: status, code, message, ...(errors?.length ? { errors } : {}) } satisfies ErrorBody, status);
  }

  get body(): ErrorBody {
    return this.getResponse() as ErrorBody;
  }
}

/** 404 for a record that does not exist or belongs to someone else (the two look the same). */
export function notFound(what: string, id: string): ApiError {
  return new ApiError(404, 'not-found', `${what} ${id} was not found`);
}
