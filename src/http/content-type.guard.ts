import type { CanActivate, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { ApiError } from '../shared/api-error.js';

/** The request body types the API reads: JSON, and multipart forms for uploads. */
export const ACCEPTED_BODY_TYPES = ['application/json', 'multipart/form-data'] as const;

/**
 * Refuses, before authentication and validation, any HTTP request that carries a body (a
 * `Content-Length` above 0, or `Transfer-Encoding`) whose `Content-Type` is not one of
 * {@link ACCEPTED_BODY_TYPES}: 415 `unsupported-media-type` naming them. Without it a `text/plain`
 * or XML body was ignored and the answer spoke of missing fields.
 */
export class ContentTypeGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<Request>();
    const length = request.headers['content-length'];
    const hasBody = request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    if (!hasBody || request.is([...ACCEPTED_BODY_TYPES])) return true;
    const sent = request.headers['content-type'] ?? 'none';
    throw new ApiError(415, 'unsupported-media-type', `Content-Type ${sent} is not accepted; send ${ACCEPTED_BODY_TYPES.join(' or ')}`);
  }
}
