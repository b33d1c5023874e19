import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import argon2 from 'argon2';
import type { ApiKey, User } from '../db/schema.js';
import { API_KEY_PREFIX } from '../shared/auth-user.js';
import { ApiError, notFound } from '../shared/api-error.js';
import { ApiKeyRepository } from '../repositories/api-key.repository.js';
import { UserRepository } from '../repositories/user.repository.js';

/** SHA-256 of a secret token, hex: how API keys and refresh tokens are stored. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Characters of an API key kept visible in lists (`sfk_` + 8). */
const API_KEY_VISIBLE = API_KEY_PREFIX.length + 8;

/** A use of an API key is recorded at most this often, ms. */
const API_KEY_TOUCH_INTERVAL_MS = 60_000;

/**
 * Accounts: users with argon2id password hashes, and personal API keys (made with 32 random
 * bytes, shown once, kept as SHA-256 hashes). Used by the HTTP API and the command line.
 */
@Injectable()
export class AccountService {
  private dummyHash?: Promise<string>;

  constructor(
    private readonly users: UserRepository,
    private readonly apiKeys: ApiKeyRepository,
  ) {}

  /**
   * Makes a user with a password.
   * @param email compared without case; stored trimmed and in lower case.
   * @param isAdmin may open the queue dashboard (only the command line makes admins).
   * @throws ApiError 409 `email-taken` when an account has this email; 400 when the password is
   * shorter than 8 characters.
   */
  async createUser(input: { email: string; password: string; displayName?: string; isAdmin?: boolean }): Promise<User> {
    const email = input.email.trim().toLowerCase();
    if (input.password.length < 8) {
      throw new ApiError(400, 'validation-failed', 'The password must be at least 8 characters', [
        { field: 'password', message: 'password must be longer than or equal to 8 characters' },
      ]);
    }
    const passwordHash = await argon2.hash(input.password, { type: argon2.argon2id });
    const user = await this.users.create({ email, passwordHash, displayName: input.displayName ?? null, isAdmin: input.isAdmin ?? false });
    if (!user) throw new ApiError(409, 'email-taken', `An account with the email ${email} exists already`, [{ field: 'email', message: 'already registered' }]);
    return user;
  }

  /**
   * The user with this email and password. Takes about as long for an unknown email as for a
   * wrong password, so answers do not tell which emails have accounts.
   * @returns undefined when the email is unknown, the account has no password, or it does not match.
   */
  async verifyPassword(email: string, password: string): Promise<User | undefined> {
    const user = await this.users.findByEmail(email.trim().toLowerCase());
    if (!user?.passwordHash) {
      this.dummyHash ??= argon2.hash(randomBytes(16).toString('hex'), { type: argon2.argon2id });
      await argon2.verify(await this.dummyHash, password).catch(() => false);
      return undefined;
    }
    return (await argon2.verify(user.passwordHash, password)) ? user : undefined;
  }

  getUser(id: string): Promise<User | undefined> {
    return this.users.get(id);
  }

  /** @throws ApiError 404 when no account has this email. */
  async getUserByEmail(email: string): Promise<User> {
    const user = await this.users.findByEmail(email.trim().toLowerCase());
    if (!user) throw notFound('User', email);
    return user;
  }

  /**
   * Makes an API key for a user.
   * @returns the stored record and the key itself, which is not kept and cannot be shown again.
   */
  async createApiKey(userId: string, name: string): Promise<{ apiKey: ApiKey; key: string }> {
    const key = `${API_KEY_PREFIX}${randomBytes(32).toString('hex')}`;
    const apiKey = await this.apiKeys.create({ userId, name, prefix: key.slice(0, API_KEY_VISIBLE), keyHash: hashToken(key) });
    return { apiKey, key };
  }

  listApiKeys(userId: string): Promise<ApiKey[]> {
    return this.apiKeys.listByUser(userId);
  }

  /** @throws ApiError 404 when the user has no key with this id. */
  async deleteApiKey(userId: string, id: string): Promise<void> {
    if (!(await this.apiKeys.delete(userId, id))) throw notFound('API key', id);
  }

  /** The owner of an API key, recording the use; undefined for an unknown key. */
  async resolveApiKey(key: string): Promise<{ apiKey: ApiKey; user: User } | undefined> {
    const found = await this.apiKeys.findByHash(hashToken(key));
    if (!found) return undefined;
    await this.apiKeys.touch(found.key.id, new Date(), API_KEY_TOUCH_INTERVAL_MS);
    return { apiKey: found.key, user: found.user };
  }
}
