import { applyDecorators, createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../dtos/error.dto.js';
import type { AuthUser } from '../shared/auth-user.js';

export const IS_PUBLIC = Symbol('storyforge:public');

/** Marks a route (or controller) as open to everyone: no token or key needed. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** OpenAPI: the route needs a bearer token (JWT access token or API key) or an `X-API-Key` header. */
export const Authenticated = () =>
  applyDecorators(
    ApiBearerAuth('bearer'),
    ApiSecurity('api-key'),
    ApiUnauthorizedResponse({ description: 'No valid access token or API key (`code`: `unauthorized`)', type: ErrorResponseDto }),
  );

/** The authenticated user of an HTTP request (set by the auth guard). */
export const Auth = createParamDecorator((_data: unknown, context: ExecutionContext): AuthUser => {
  return context.switchToHttp().getRequest<{ user: AuthUser }>().user;
});
