import { applyDecorators, type ExecutionContext, Inject, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { ErrorResponseDto } from '../dtos/error.dto.js';
import { RateLimitRepository } from '../repositories/rate-limit.repository.js';

/** `auth`: register and login together, per client IP. `upload`: both upload routes together, per user. */
export type RateLimitBucket = 'auth' | 'upload';

const RATE_LIMIT_BUCKET = Symbol('storyforge:rate-limit');

/**
 * Counts requests in the named bucket (limits from RATE_LIMIT_WINDOW_MS, RATE_LIMIT_AUTH,
 * RATE_LIMIT_UPLOAD; counters in Redis, shared by every API process). Over the limit answers 429
 * `too-many-requests` with `Retry-After-<bucket>` in seconds.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  // Every parameter names its token: the base class's own injection metadata would apply otherwise.
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(RateLimitRepository) storage: RateLimitRepository,
    @Inject(Reflector) reflector: Reflector,
  ) {
    const { windowMs, auth, upload } = config.http.rateLimit;
    const bucketOf = (context: ExecutionContext) =>
      reflector.getAllAndOverride<RateLimitBucket | undefined>(RATE_LIMIT_BUCKET, [context.getHandler(), context.getClass()]);
    super(
      {
        throttlers: [
          { name: 'auth', ttl: windowMs, limit: auth, skipIf: (context) => bucketOf(context) !== 'auth' },
          { name: 'upload', ttl: windowMs, limit: upload, skipIf: (context) => bucketOf(context) !== 'upload' },
        ],
      },
      storage,
      reflector,
    );
    void this.onModuleInit(); // builds the throttler list; harmless if Nest calls it again
  }

  /** Per user once the auth guard has run, else per client IP. */
  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    const user = request.user as { id?: string } | undefined;
    return user?.id ? `user:${user.id}` : `ip:${String(request.ip)}`;
  }

  /** One counter per bucket and caller, whichever route of the bucket is called. */
  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }
}

/** Puts a route in a rate-limit bucket. */
export const RateLimit = (bucket: RateLimitBucket) =>
  applyDecorators(
    SetMetadata(RATE_LIMIT_BUCKET, bucket),
    UseGuards(RateLimitGuard),
    ApiTooManyRequestsResponse({ description: `Over the ${bucket} rate limit (\`code\`: \`too-many-requests\`)`, type: ErrorResponseDto }),
  );
