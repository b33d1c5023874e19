import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HttpException, NotFoundException, PayloadTooLargeException, type ValidationError } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { credentialFrom } from '../../../src/auth/credentials.js';
import { resolveJwtSecret } from '../../../src/auth/jwt-secret.js';
import { loadConfig } from '../../../src/config/config.js';
import { ApiError } from '../../../src/shared/api-error.js';
import { toErrorBody } from '../../../src/http/error.filter.js';
import { contentDisposition } from '../../../src/http/send-file.js';
import { flattenValidationErrors } from '../../../src/http/validation.js';
import { uploadIdFromUrl } from '../../../src/services/story.service.js';
import { IntakeError } from '../../../src/text/intake-error.js';

const config = loadConfig({});

describe('the error body', () => {
  it('keeps ApiError as it is', () => {
    const error = new ApiError(409, 'step-not-ready', 'Not yet', [{ field: 'merge', message: 'needs audio' }]);
    expect(toErrorBody(error, config)).toEqual({ statusCode: 409, code: 'step-not-ready', message: 'Not yet', errors: [{ field: 'merge', message: 'needs audio' }] });
  });

  it('maps unreadable files to their status and code, with the file name', () => {
    const error = new IntakeError('empty-file', '"a.txt" is empty (0 bytes).', 'a.txt');
    expect(toErrorBody(error, config)).toEqual({ statusCode: 422, code: 'empty-file', message: '"a.txt" is empty (0 bytes).', errors: [{ field: 'file', message: '"a.txt" is empty (0 bytes).' }] });
    expect(toErrorBody(new IntakeError('file-too-large', 'too big', 'b.txt'), config).statusCode).toBe(413);
    expect(toErrorBody(new IntakeError('binary-content', 'not text', 'c.txt'), config).statusCode).toBe(415);
  });

  it("turns multer's limits into file-too-large (413, naming the file) and too-many-files (400)", () => {
    const size = new PayloadTooLargeException('File too large', { cause: Object.assign(new Error('File too large'), { code: 'LIMIT_FILE_SIZE', field: 'files', filename: 'Truyện.txt' }) });
    expect(toErrorBody(size, config)).toMatchObject({ statusCode: 413, code: 'file-too-large', errors: [{ field: 'files' }] });
    expect(toErrorBody(size, config).message).toContain('"Truyện.txt"');
    expect(toErrorBody(size, config).message).toContain('10 MB');
    const count = new HttpException('Too many files', 400, { cause: Object.assign(new Error('Too many files'), { code: 'LIMIT_FILE_COUNT' }) });
    expect(toErrorBody(count, config)).toMatchObject({ statusCode: 400, code: 'too-many-files', errors: [{ field: 'files' }] });
    expect(toErrorBody(count, config).message).toContain('at most 10');
  });

  it("gives Nest's and Express's own errors a code, and hides the details of server errors", () => {
    expect(toErrorBody(new NotFoundException('Cannot GET /nope'), config)).toEqual({ statusCode: 404, code: 'not-found', message: 'Cannot GET /nope' });
    const parse = Object.assign(new SyntaxError('Unexpected end of JSON input'), { status: 400, expose: true });
    expect(toErrorBody(parse, config)).toEqual({ statusCode: 400, code: 'bad-request', message: 'Unexpected end of JSON input' });
    expect(toErrorBody(new Error('password=hunter2 in connection string'), config)).toEqual({
      statusCode: 500,
      code: 'internal-error',
      message: 'Something went wrong on the server; it has been logged',
    });
  });

  it('names nested and array fields of validation errors', () => {
    const errors = [
      { property: 'autoMode', children: [{ property: 'wordPerChunkImage', constraints: { min: 'wordPerChunkImage must not be less than 10' }, children: [] }] },
      { property: 'fileUrls', children: [{ property: '1', constraints: { matches: 'bad url' }, children: [] }] },
      { property: 'extra', constraints: { whitelistValidation: 'property extra should not exist' }, children: [] },
    ] as unknown as ValidationError[];
    expect(flattenValidationErrors(errors)).toEqual([
      { field: 'autoMode.wordPerChunkImage', message: 'wordPerChunkImage must not be less than 10' },
      { field: 'fileUrls[1]', message: 'bad url' },
      { field: 'extra', message: 'unknown field: extra is not part of this request' },
    ]);
  });
});

describe('small HTTP helpers', () => {
  it('writes Content-Disposition with an ASCII fallback and the exact UTF-8 name', () => {
    const header = contentDisposition('Truyện cổ tích "1".mp3', 'attachment');
    expect(header).toMatch(/^attachment; filename="Truyen co tich _1_.mp3"; filename\*=UTF-8''/);
    expect(decodeURIComponent(header.split("UTF-8''")[1]!)).toBe('Truyện cổ tích "1".mp3');
  });

  it('reads upload ids from the URLs the upload endpoints give, and nothing else', () => {
    const id = '7c1e2b4a-9d3f-4e5a-8b6c-1d2e3f4a5b6c';
    expect(uploadIdFromUrl(`/file-upload/${id}/content`)).toBe(id);
    expect(uploadIdFromUrl(`https://stories.example.com/file-upload/${id.toUpperCase()}`)).toBe(id);
    expect(uploadIdFromUrl(`https://evil.example.com/${id}`)).toBeUndefined();
    expect(uploadIdFromUrl(`/file-upload/${id}/../../etc/passwd`)).toBeUndefined();
  });

  it('takes the credential from X-API-Key or a bearer token', () => {
    expect(credentialFrom({ authorization: 'Bearer abc.def.ghi' })).toBe('abc.def.ghi');
    expect(credentialFrom({ authorization: 'bearer sfk_1' })).toBe('sfk_1');
    expect(credentialFrom({ 'x-api-key': ' sfk_2 ', authorization: 'Bearer x' })).toBe('sfk_2');
    expect(credentialFrom({ authorization: 'Basic dXNlcjpwYXNz' })).toBeUndefined();
    expect(credentialFrom({})).toBeUndefined();
  });
});

describe('HTTP configuration', () => {
  it('reads the CORS allow-list, upload limits and rate limits, refusing malformed values by name', () => {
    const parsed = loadConfig({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173', UPLOAD_MAX_FILES: '5', RATE_LIMIT_AUTH: '3' });
    expect(parsed.http).toMatchObject({
      corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
      upload: { maxFiles: 5, maxBytes: 10 * 1024 * 1024 },
      rateLimit: { windowMs: 60_000, auth: 3, upload: 30 },
    });
    expect(loadConfig({}).http.corsOrigins).toEqual([]);
    expect(() => loadConfig({ CORS_ORIGINS: 'app.example.com/path' })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ JWT_SECRET: 'short' })).toThrow(/JWT_SECRET/);
    expect(loadConfig({ JWT_SECRET: '' }).auth.jwtSecret).toBeUndefined();
  });

  it('makes one signing secret for processes starting together, and keeps it', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-secret-'));
    try {
      const local = loadConfig({ DATA_DIR: dir });
      const secrets = await Promise.all(Array.from({ length: 5 }, () => resolveJwtSecret(local)));
      expect(new Set(secrets).size).toBe(1);
      expect(await resolveJwtSecret(local)).toBe(secrets[0]);
      expect((await fs.readdir(dir)).sort()).toEqual(['jwt-secret']);
      const given = 'x'.repeat(40);
      expect(await resolveJwtSecret(loadConfig({ DATA_DIR: dir, JWT_SECRET: given }))).toBe(given);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
