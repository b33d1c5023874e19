import { Body, Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../shared/auth-user.js';
import { Auth, Authenticated } from '../auth/decorators.js';
import { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from '../dtos/api-key.dto.js';
import { ApiErrors } from '../http/api-errors.decorator.js';
import { ApiUuidParam, UuidParam } from '../http/params.js';
import { ApiKeyService } from '../services/api-key.service.js';

/** The signed-in user's API keys (ApiKeyService). */
@ApiTags('api-keys')
@Authenticated()
@Controller('api-keys')
export class ApiKeyController {
  constructor(private readonly service: ApiKeyService) {}

  @Post()
  @ApiOperation({ summary: 'Make a personal API key for scripts (the key is in this answer only)' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiErrors(400)
  create(@Auth() auth: AuthUser, @Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    return this.service.create(auth, dto);
  }

  @Get()
  @ApiOperation({ summary: 'Your API keys (names and prefixes; never the keys)' })
  @ApiOkResponse({ type: [ApiKeyDto] })
  list(@Auth() auth: AuthUser): Promise<ApiKeyDto[]> {
    return this.service.list(auth);
  }

  @Delete(':id')
  @ApiUuidParam('id', 'API key id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an API key; it stops working at once' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(400, 404)
  delete(@Auth() auth: AuthUser, @UuidParam('id') id: string): Promise<void> {
    return this.service.delete(auth, id);
  }
}
