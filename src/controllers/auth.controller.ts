import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Request } from 'express';
import { type AuthUser, credentialFrom } from '../auth/auth-user.js';
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
}
