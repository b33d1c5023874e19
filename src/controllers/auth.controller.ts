import { Body, Controller, Delete, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { AuthUser } from '../shared/auth-user.js';
import { credentialFrom, TOKEN_COOKIE } from '../auth/credentials.js';
import { ApiError } from '../shared/api-error.js';
import { Auth, Authenticated, Public } from '../auth/decorators.js';
import { LoginDto, LogoutDto, RefreshDto, RegisterDto, TokenResponseDto, UserDto } from '../dtos/auth.dto.js';
import { ErrorResponseDto } from '../dtos/error.dto.js';
import { ApiErrors } from '../http/api-errors.decorator.js';
import { RateLimit } from '../http/rate-limit.js';
import { EventsGateway } from '../gateways/events.gateway.js';
import { AuthService } from '../services/auth.service.js';

/** Sign-in: register, login, refresh, logout, who am I (AuthService). */
@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly service: AuthService,
    private readonly events: EventsGateway,
  ) {}

  @Post('register')
  @Public()
  @RateLimit('auth')
  @ApiOperation({ summary: 'Make an account (email and password) and sign in' })
  @ApiCreatedResponse({ type: TokenResponseDto })
  @ApiErrors(400, 409)
  register(@Body() dto: RegisterDto): Promise<TokenResponseDto> {
    return this.service.register(dto);
  }

  @Post('login')
  @Public()
  @HttpCode(200)
  @RateLimit('auth')
  @ApiOperation({ summary: 'Sign in with email and password' })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiUnauthorizedResponse({ description: 'Wrong email or password (`invalid-credentials`)', type: ErrorResponseDto })
  @ApiErrors(400)
  login(@Body() dto: LoginDto): Promise<TokenResponseDto> {
    return this.service.login(dto.email, dto.password);
  }

  @Post('refresh')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Trade a refresh token for a new token pair (the old refresh token stops working)' })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiUnauthorizedResponse({ description: 'Invalid, expired, revoked or already used refresh token (`unauthorized`)', type: ErrorResponseDto })
  @ApiErrors(400)
  refresh(@Body() dto: RefreshDto): Promise<TokenResponseDto> {
    return this.service.refresh(dto.refreshToken);
  }

  @Post('logout')
  @HttpCode(204)
  @Public()
  @ApiBearerAuth('bearer')
  @ApiOperation({
    summary:
      'End this session (its access and refresh tokens, and its open Socket.IO connections), or with `all` every session of the account. ' +
      'Sign in with the access token, or give the session\'s `refreshToken` in the body (works after the access token has expired)',
  })
  @ApiNoContentResponse({ description: 'Signed out' })
  @ApiUnauthorizedResponse({ description: 'No valid access token and no valid refresh token (`unauthorized`)', type: ErrorResponseDto })
  @ApiErrors(400)
  async logout(@Req() request: Request, @Body() dto: LogoutDto): Promise<void> {
    const auth = dto.refreshToken
      ? await this.service.sessionOfRefreshToken(dto.refreshToken)
      : await this.service.authenticate(credentialFrom(request.headers));
    await this.service.logout(auth, dto.all);
    this.events.disconnectSessions(auth, dto.all ?? false);
  }

  @Get('me')
  @Authenticated()
  @ApiOperation({ summary: 'The signed-in user' })
  @ApiOkResponse({ type: UserDto })
  me(@Auth() auth: AuthUser): Promise<UserDto> {
    return this.service.me(auth);
  }

  @Post('cookie')
  @HttpCode(204)
  @Authenticated()
  @ApiOperation({
    summary:
      'Put this access token in an HttpOnly, SameSite=Strict cookie, so that <audio>, <video>, <img> and download links of the web page can read files. ' +
      'The cookie is accepted on GET and HEAD only, and lasts as long as the token',
  })
  @ApiNoContentResponse({ description: 'Cookie set' })
  @ApiErrors(400)
  setCookie(@Auth() auth: AuthUser, @Req() req: Request, @Res({ passthrough: true }) res: Response): void {
    const token = credentialFrom(req.headers);
    if (!auth.sessionId || !token) throw new ApiError(400, 'not-a-session-token', 'Only a JWT access token (from /auth/login) can be put in a cookie, not an API key');
    res.cookie(TOKEN_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: req.secure,
      path: '/',
      maxAge: this.service.accessTtlS * 1000,
    });
  }

  @Delete('cookie')
  @Public()
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove the cookie set by POST /auth/cookie' })
  @ApiNoContentResponse({ description: 'Cookie removed' })
  clearCookie(@Req() req: Request, @Res({ passthrough: true }) res: Response): void {
    res.clearCookie(TOKEN_COOKIE, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' });
  }
}
