import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpTestApp, startHttpTestApp } from '../../support/http-app.js';

interface SchemaProperty {
  description?: string;
  example?: unknown;
  $ref?: string;
  allOf?: unknown[];
  items?: { $ref?: string; format?: string };
  format?: string;
}

/** Routes anyone may call: probes, sign-up, sign-in, token refresh and clearing the media cookie. */
const OPEN_ROUTES = ['get /health', 'get /ready', 'get /metrics', 'post /auth/register', 'post /auth/login', 'post /auth/refresh', 'delete /auth/cookie'];

describe('the OpenAPI document', () => {
  let t: HttpTestApp;
  beforeAll(async () => {
    t = await startHttpTestApp({ workers: false });
  });
  afterAll(async () => t?.close());

  it('is served at /docs-json, with Swagger UI at /docs, without a token', async () => {
    const ui = await t.api.get('/docs');
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toContain('text/html');
    expect(ui.body).toContain('swagger');
    const doc = await t.api.get('/docs-json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.components.securitySchemes).sort()).toEqual(['api-key', 'bearer']);
  });

  it('lists every route the server answers, with a summary, and the error body on protected ones', async () => {
    const doc = (await t.api.get('/docs-json')).body as {
      paths: Record<string, Record<string, { summary?: string; security?: unknown[]; parameters?: { name: string; description?: string }[]; responses: Record<string, unknown> }>>;
    };
    const router = t.app.getHttpAdapter().getInstance().router as { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
    const routes = router.stack
      .filter((layer) => layer.route && !layer.route.path.startsWith('/docs'))
      .flatMap((layer) => Object.keys(layer.route!.methods).map((method) => `${method} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`));
    const documented = Object.entries(doc.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`));
    expect(routes.length).toBeGreaterThanOrEqual(28);
    expect(documented.sort()).toEqual(routes.sort());

    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        expect(operation.summary, `${method} ${path} summary`).toBeTruthy();
        for (const parameter of operation.parameters ?? []) {
          expect(parameter.description, `${method} ${path} parameter ${parameter.name}`).toBeTruthy();
        }
        const route = `${method} ${path}`;
        if (OPEN_ROUTES.includes(route)) {
          expect(operation.security ?? [], `${route} needs no sign-in`).toEqual([]);
          continue;
        }
        if (route === 'post /auth/logout') {
          // Signed in with an access token, or with the session's refresh token in the body.
          expect(operation.security, `${route} security`).toEqual([{ bearer: [] }]);
          continue;
        }
        expect(operation.security, `${method} ${path} security`).toEqual([{ bearer: [] }, { 'api-key': [] }]);
        expect(JSON.stringify(operation.responses['401']), `${method} ${path} 401`).toContain('#/components/schemas/ErrorResponseDto');
      }
    }
  });

  it('describes every field of every schema, with an example', async () => {
    const doc = (await t.api.get('/docs-json')).body as { components: { schemas: Record<string, { properties?: Record<string, SchemaProperty> }> } };
    const schemas = doc.components.schemas;
    for (const name of ['BatchCreateStoryDto', 'AutoModeConfigDto', 'GenerateStoryDto', 'CreateStoryDto', 'StoryStyleDto', 'ErrorResponseDto', 'BatchStatusDto', 'UploadedFileDto', 'StoryStepsDto']) {
      expect(schemas[name], name).toBeDefined();
    }
    // The seed's AutoModeConfigDto fields (more may follow with new steps).
    expect(Object.keys(schemas.AutoModeConfigDto!.properties!)).toEqual(
      expect.arrayContaining(['audioVoice', 'customPromptAudio', 'customPromptImage', 'enabled', 'generateAudio', 'generateImages', 'mergeAudio', 'wordPerChunkAudio', 'wordPerChunkImage']),
    );
    const missing: string[] = [];
    for (const [name, schema] of Object.entries(schemas)) {
      for (const [property, definition] of Object.entries(schema.properties ?? {})) {
        if (!definition.description?.trim()) missing.push(`${name}.${property}: description`);
        const nested = definition.$ref || definition.allOf || definition.items?.$ref;
        const binary = definition.format === 'binary' || definition.items?.format === 'binary';
        if (!nested && !binary && definition.example === undefined) missing.push(`${name}.${property}: example`);
      }
    }
    expect(missing).toEqual([]);
  });
});
