import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AuthService } from '../services/auth.service.js';
import { cookieCredential, credentialFrom } from './credentials.js';
import { IS_PUBLIC } from './decorators.js';

/**
 * The global guard of the HTTP API: every route needs a JWT access token or an API key, except
 * those marked {@link Public}. Reads and downloads (GET, HEAD) also take the access token from the
 * web page's cookie ({@link cookieCredential}). Puts the caller on `request.user`.
 * @throws ApiError 401 `unauthorized` when the credential is missing, invalid, expired or revoked.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Sockets are authenticated once, at the handshake (see EventsGateway).
    if (context.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<Request & { user?: unknown }>();
    request.user = await this.auth.authenticate(credentialFrom(request.headers) ?? cookieCredential(request.method, request.headers.cookie));
    return true;
  }
}
