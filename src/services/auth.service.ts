import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { API_KEY_PREFIX, type AuthUser } from '../shared/auth-user.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { User } from '../db/schema.js';
import { ApiError } from '../shared/api-error.js';
import { RefreshTokenRepository } from '../repositories/refresh-token.repository.js';
import { AccountService, hashToken } from './account.service.js';
import { SharedReads } from './shared-read.js';

/** Claims of Storyforge's JWTs. */
interface TokenClaims {
  /** User id. */
  sub: string;
  /** Session id (a refresh_tokens row). */
  sid: string;
  typ: 'access' | 'refresh';
}

/** Access and refresh token pair with their lifetimes, s. */
export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshExpiresIn: number;
  user: Pick<User, 'id' | 'email' | 'displayName' | 'createdAt'>;
}

const unauthorized = (message = 'A valid access token or API key is needed') => new ApiError(401, 'unauthorized', message);

/**
 * Sign-in: register, log in, refresh, log out, and who a token or API key belongs to.
 *
 * Access tokens are short-lived HS256 JWTs naming the user and the session; refresh tokens are
 * JWTs too, each valid for one refresh (rotation). A session is a refresh_tokens row holding the
 * hash of its current refresh token; logout revokes it, which ends its access tokens at once (they
 * are checked against the session on every request). Presenting an already used refresh token
 * revokes the whole session, since it may have been stolen.
 */
@Injectable()
export class AuthService {
  /** Session and user reads of requests with the same token that arrive together. */
  private readonly sessionReads = new SharedReads<[Awaited<ReturnType<RefreshTokenRepository['get']>>, Awaited<ReturnType<AccountService['getUser']>>]>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jwt: JwtService,
    private readonly accounts: AccountService,
    private readonly sessions: RefreshTokenRepository,
  ) {}

  /** @throws ApiError 409 `email-taken`. */
  async register(input: { email: string; password: string; displayName?: string }): Promise<IssuedTokens> {
    const user = await this.accounts.createUser(input);
    return this.startSession(user);
  }

  /** @throws ApiError 401 `invalid-credentials` for an unknown email or a wrong password (one message for both). */
  async login(email: string, password: string): Promise<IssuedTokens> {
    const user = await this.accounts.verifyPassword(email, password);
    if (!user) throw new ApiError(401, 'invalid-credentials', 'The email or password is wrong');
    return this.startSession(user);
  }

  /**
   * Trades a refresh token for a new pair; the old refresh token stops working.
   * @throws ApiError 401 when the token is invalid, expired, revoked or already used (which also
   * revokes its session).
   */
  async refresh(refreshToken: string): Promise<IssuedTokens> {
    const claims = await this.verify(refreshToken, 'refresh');
    const session = await this.sessions.get(claims.sid);
    const now = new Date();
    if (!session || session.userId !== claims.sub || session.revokedAt || session.expiresAt <= now) {
      throw unauthorized('The refresh token is no longer valid; log in again');
    }
    const presented = hashToken(refreshToken);
    if (presented !== session.tokenHash) {
      await this.sessions.revoke(session.id, now);
      throw new ApiError(401, 'unauthorized', 'This refresh token was used already; the session has been ended for safety. Log in again');
    }
    const user = await this.accounts.getUser(session.userId);
    if (!user) throw unauthorized();
    const tokens = await this.sign(user, session.id);
    const rotated = await this.sessions.rotate(session.id, presented, {
      tokenHash: hashToken(tokens.refreshToken),
      expiresAt: new Date(now.getTime() + this.config.auth.refreshTtlS * 1000),
      lastUsedAt: now,
    });
    if (!rotated) throw unauthorized('The refresh token is no longer valid; log in again');
    return tokens;
  }

  /**
   * Who a refresh token signs in, for logging out with it when the access token has expired: its
   * user and session, also when that session has ended already (ending it again changes nothing).
   * @throws ApiError 401 when the token is invalid or expired, or its session or user is gone.
   */
  async sessionOfRefreshToken(refreshToken: string): Promise<AuthUser> {
    const claims = await this.verify(refreshToken, 'refresh');
    const session = await this.sessions.get(claims.sid);
    if (!session || session.userId !== claims.sub) throw unauthorized('The refresh token is no longer valid');
    const user = await this.accounts.getUser(session.userId);
    if (!user) throw unauthorized();
    return { id: user.id, email: user.email, sessionId: session.id };
  }

  /** Ends the caller's session (or, with `all`, every session of the user). API keys are not touched. */
  async logout(user: AuthUser, all = false): Promise<void> {
    const now = new Date();
    if (all) await this.sessions.revokeAllOfUser(user.id, now);
    else if (user.sessionId) await this.sessions.revoke(user.sessionId, now);
  }

  /** The signed-in user. @throws ApiError 401 when the account is gone. */
  /** How long an access token lasts, seconds (ACCESS_TOKEN_TTL). */
  get accessTtlS(): number {
    return this.config.auth.accessTtlS;
  }

  async me(user: AuthUser): Promise<IssuedTokens['user']> {
    const found = await this.accounts.getUser(user.id);
    if (!found) throw unauthorized();
    return { id: found.id, email: found.email, displayName: found.displayName, createdAt: found.createdAt };
  }

  /**
   * Who a credential belongs to: an API key (`sfk_…`) or a JWT access token of a live session.
   * @throws ApiError 401 `unauthorized` when it is missing, malformed, expired, revoked or unknown.
   */
  async authenticate(credential: string | undefined): Promise<AuthUser> {
    if (!credential) throw unauthorized();
    if (credential.startsWith(API_KEY_PREFIX)) {
      const found = await this.accounts.resolveApiKey(credential);
      if (!found) throw unauthorized('The API key is not valid (it may have been deleted)');
      return { id: found.user.id, email: found.user.email, apiKeyId: found.apiKey.id };
    }
    const claims = await this.verify(credential, 'access');
    // Both reads at once; requests of one session that arrive together share them.
    const [session, user] = await this.sessionReads.run(`${claims.sid}:${claims.sub}`, () =>
      Promise.all([this.sessions.get(claims.sid), this.accounts.getUser(claims.sub)]),
    );
    if (!session || session.userId !== claims.sub || session.revokedAt) throw unauthorized('The session has ended; log in again');
    if (!user) throw unauthorized();
    return { id: user.id, email: user.email, sessionId: session.id };
  }

  private async startSession(user: User): Promise<IssuedTokens> {
    const sessionId = randomUUID();
    const tokens = await this.sign(user, sessionId);
    await this.sessions.create({
      id: sessionId,
      userId: user.id,
      tokenHash: hashToken(tokens.refreshToken),
      expiresAt: new Date(Date.now() + this.config.auth.refreshTtlS * 1000),
    });
    return tokens;
  }

  private async sign(user: User, sessionId: string): Promise<IssuedTokens> {
    const { accessTtlS, refreshTtlS } = this.config.auth;
    const base = { sub: user.id, sid: sessionId };
    const [accessToken, refreshToken] = await Promise.all([
      this.jwt.signAsync({ ...base, typ: 'access' } satisfies TokenClaims, { expiresIn: accessTtlS }),
      // jti makes every refresh token distinct, even two signed in the same second.
      this.jwt.signAsync({ ...base, typ: 'refresh' } satisfies TokenClaims, { expiresIn: refreshTtlS, jwtid: randomBytes(12).toString('hex') }),
    ]);
    return {
      accessToken,
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: accessTtlS,
      refreshExpiresIn: refreshTtlS,
      user: { id: user.id, email: user.email, displayName: user.displayName, createdAt: user.createdAt },
    };
  }

  private async verify(token: string, typ: TokenClaims['typ']): Promise<TokenClaims> {
    let claims: TokenClaims;
    try {
      claims = await this.jwt.verifyAsync<TokenClaims & object>(token, { algorithms: ['HS256'] });
    } catch (error) {
      const expired = (error as Error).name === 'TokenExpiredError';
      throw unauthorized(expired ? `The ${typ} token has expired` : `The ${typ} token is not valid`);
    }
    if (claims.typ !== typ || typeof claims.sub !== 'string' || typeof claims.sid !== 'string') {
      throw unauthorized(`The ${typ} token is not valid`);
    }
    return claims;
  }
}
