import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../shared/auth-user.js';
import type { ApiKey } from '../db/schema.js';
import type { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from '../dtos/api-key.dto.js';
import { AccountService } from './account.service.js';

const mapApiKey = (key: ApiKey): ApiKeyDto => ({ id: key.id, name: key.name, prefix: key.prefix, lastUsedAt: key.lastUsedAt, createdAt: key.createdAt });

/** The signed-in user's API keys over HTTP. */
@Injectable()
export class ApiKeyService {
  constructor(private readonly accounts: AccountService) {}

  /** @returns the key record and the key itself (shown once). */
  async create(user: AuthUser, dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    const { apiKey, key } = await this.accounts.createApiKey(user.id, dto.name);
    return { ...mapApiKey(apiKey), key };
  }

  async list(user: AuthUser): Promise<ApiKeyDto[]> {
    return (await this.accounts.listApiKeys(user.id)).map(mapApiKey);
  }

  /** @throws ApiError 404 when the user has no key with this id. */
  delete(user: AuthUser, id: string): Promise<void> {
    return this.accounts.deleteApiKey(user.id, id);
  }
}
