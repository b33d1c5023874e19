import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import type { AppConfig } from '../config/config.js';
import { isDatabaseUnavailable } from '../db/database.js';
import { fileTooLargeError, formatBytes, tooManyFilesError, uploadLimits } from '../services/intake-rules.js';
import { MAX_MUSIC_BYTES } from '../media/soundtrack.js';
import { IntakeError } from '../text/intake-error.js';
import { ApiError, type ErrorBody } from '../shared/api-error.js';
import { receivingFilePath } from './upload.options.js';

/** Stable codes for the statuses Nest and its libraries raise on their own. */
const CODE_OF_STATUS: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  406: 'not-acceptable',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  416: 'range-not-satisfiable',
  422: 'unprocessable',
  429: 'too-many-requests',
  500: 'internal-error',
  503: 'unavailable',
};

/**
 * Seconds a client is told to wait (`Retry-After`) when the database cannot be reached: about
 * what a PostgreSQL restart or failover takes.
 */
export const DATABASE_RETRY_AFTER_S = 5;

interface MulterLikeError {
  code?: string;
  field?: string;
  filename?: string;
}

/**
 * Turns any error into the one documented error body `{ statusCode, code, message, errors? }`.
 * Handles our {@link ApiError}, Nest's HttpExceptions (router 404, multer limits, throttling, body
 * parsing), IntakeError (unreadable uploads, with the file name), an unreachable database (503
 * `database-unavailable`, see {@link isDatabaseUnavailable}), and anything else as a 500 whose
 * details are logged, not sent. `request` (when known) lets an upload refusal name the file as `files[i]`.
 */
export function toErrorBody(exception: unknown, config: AppConfig, request?: object): ErrorBody {
  if (exception instanceof ApiError) return exception.body;
  if (isDatabaseUnavailable(exception)) {
    return {
      statusCode: 503,
      code: 'database-unavailable',
      message: `The database does not answer; nothing was changed. Try again in ${DATABASE_RETRY_AFTER_S} seconds (Retry-After)`,
    };
  }
  if (exception instanceof IntakeError) return intakeBody(exception, exception.fileName ? 'file' : 'files');
  if (exception instanceof HttpException) {
    const statusCode = exception.getStatus();
    const multer = multerCause(exception);
    if (multer) return multerBody(statusCode, multer, config, request);
    const response = exception.getResponse();
    const raw = typeof response === 'string' ? response : (response as { message?: unknown }).message;
    const message = Array.isArray(raw) ? raw.join('; ') : typeof raw === 'string' ? raw : exception.message;
    return { statusCode, code: CODE_OF_STATUS[statusCode] ?? `http-${statusCode}`, message: tidy(statusCode, message) };
  }
  const status = (exception as { status?: unknown; statusCode?: unknown })?.status ?? (exception as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Errors of Express middleware (body parser, send): they carry a status and a safe message.
    const expose = (exception as { expose?: boolean }).expose !== false;
    return {
      statusCode: status,
      code: CODE_OF_STATUS[status] ?? `http-${status}`,
      message: expose ? String((exception as Error).message ?? 'Bad request') : 'Bad request',
    };
  }
  return { statusCode: 500, code: 'internal-error', message: 'Something went wrong on the server; it has been logged' };
}

function multerCause(exception: HttpException): MulterLikeError | undefined {
  const cause = exception.cause as MulterLikeError | undefined;
  return cause && typeof cause.code === 'string' && cause.code.startsWith('LIMIT_') ? cause : undefined;
}

function multerBody(statusCode: number, error: MulterLikeError, config: AppConfig, request?: object): ErrorBody {
  const limits = uploadLimits(config);
  switch (error.code) {
    case 'LIMIT_FILE_SIZE':
      if ((request as { path?: string } | undefined)?.path?.endsWith('/file-upload/music')) {
        const message = `"${error.filename ?? 'The file'}" is larger than the ${formatBytes(MAX_MUSIC_BYTES)} a music file may have; shorten it or send an MP3`;
        return { statusCode: 413, code: 'file-too-large', message, errors: [{ field: error.field ?? 'file', message }] };
      }
      return intakeBody(fileTooLargeError(error.filename, undefined, limits), receivingFilePath(request, error.field ?? 'file'));
    case 'LIMIT_FILE_COUNT':
      return intakeBody(tooManyFilesError(undefined, limits), receivingFilePath(request, error.field ?? 'files', true));
    case 'LIMIT_UNEXPECTED_FILE':
      return {
        statusCode: 400,
        code: 'unexpected-file',
        message: `Unexpected file field "${error.field ?? ''}": send the file in the field this route documents, and no more files than it takes`,
        errors: [{ field: error.field ?? 'file', message: 'unexpected file field or too many files' }],
      };
    default:
      return { statusCode, code: 'bad-request', message: `Upload refused: ${error.code}` };
  }
}

/** The body of an intake refusal: its status and code, the message, and the field the file came in. */
function intakeBody(error: IntakeError, field: string): ErrorBody {
  return { statusCode: error.httpStatus, code: error.code, message: error.message, errors: [{ field, message: error.message }] };
}

function tidy(status: number, message: string): string {
  if (status === 429) return 'Too many requests; wait a moment and try again';
  return message;
}

/**
 * The global exception filter of the HTTP API: every 4xx and 5xx answer has the body
 * {@link ErrorBody}. Server errors are logged with their stack.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  constructor(private readonly config: AppConfig) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const body = toErrorBody(exception, this.config, host.getType() === 'http' ? host.switchToHttp().getRequest<object>() : undefined);
    if (host.getType() === 'ws') {
      // A socket message handler failed: the client gets the same body as an `exception` event.
      host.switchToWs().getClient<{ emit(event: string, data: unknown): void }>().emit('exception', body);
      return;
    }
    const response = host.switchToHttp().getResponse<Response>();
    // An outage is logged once by the database module, not once per request.
    if (body.statusCode >= 500 && body.code !== 'database-unavailable') {
      this.logger.error((exception as Error)?.message ?? String(exception), (exception as Error)?.stack);
    }
    if (response.headersSent) {
      // A download failed half-way: the status line is gone, so cut the connection instead.
      response.destroy();
      return;
    }
    // A download may have set its own headers before it failed.
    response.removeHeader('Content-Disposition');
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    if (body.code === 'database-unavailable') response.setHeader('Retry-After', String(DATABASE_RETRY_AFTER_S));
    response.status(body.statusCode).json(body);
  }
}
