import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { map, type Observable } from 'rxjs';
import type { IdempotentResult } from '../services/idempotency.service.js';

/**
 * Answers a route whose handler returns an {@link IdempotentResult} (an `Idempotency-Key` route):
 * the body is the result's value, and a replay of an earlier request also says so in the
 * `Idempotent-Replayed: true` header.
 */
@Injectable()
export class IdempotentReplayInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler<IdempotentResult<unknown>>): Observable<unknown> {
    const response = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(
      map((result) => {
        if (result.replayed) response.setHeader('Idempotent-Replayed', 'true');
        return result.value;
      }),
    );
  }
}
