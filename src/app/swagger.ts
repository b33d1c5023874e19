import { readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ErrorResponseDto } from '../dtos/error.dto.js';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The OpenAPI document of every controller route. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Storyforge API')
    .setDescription(
      'Turns story files into narrated, illustrated stories. Every route except /health, /ready and /docs needs a JWT access token ' +
        '(POST /auth/login) or an API key. Every 4xx and 5xx answer has the body ErrorResponseDto. ' +
        'Live progress: Socket.IO at /socket.io (see docs/api.md).',
    )
    .setVersion(version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT or API key', description: 'Access token from /auth/login, or an API key (sfk_…)' }, 'bearer')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'API key from POST /api-keys or `storyforge apikey create`' }, 'api-key')
    .build();
  return SwaggerModule.createDocument(app, config, { extraModels: [ErrorResponseDto] });
}

/** Serves Swagger UI at /docs and the OpenAPI document at /docs-json (both public). */
export function setupSwagger(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'Storyforge API',
    swaggerOptions: { persistAuthorization: true },
  });
}
