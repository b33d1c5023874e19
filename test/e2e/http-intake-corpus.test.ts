import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTAKE_ERROR_HTTP_STATUS } from '../../src/text/intake-error.js';
import { countWords } from '../../src/text/words.js';
import { startHttpTestApp, type HttpTestApp } from '../support/http-app.js';
import { generatedCases, type IntakeCase, sampleCases } from '../support/intake-corpus.js';
import { sampleBytes } from '../support/samples.js';

interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  errors?: Array<{ field: string; message: string }>;
}

/**
 * The intake corpus over real HTTP: every case is sent to POST /file-upload/upload as a user's
 * browser would (multipart, UTF-8 file name) and must answer 201 with the file's name, format and
 * encoding, or the documented status and code naming the file. No case may answer 5xx.
 */
describe('intake corpus over HTTP', () => {
  let t: HttpTestApp;
  let token: string;
  const maxBytes = 10 * 1024 * 1024;

  beforeAll(async () => {
    t = await startHttpTestApp({
      workers: false,
      env: { RATE_LIMIT_UPLOAD: '100000', UPLOAD_MAX_BYTES: String(maxBytes), UPLOAD_MAX_FILES: '10' },
    });
    token = (await t.api.register(`intake-${randomBytes(4).toString('hex')}@example.com`)).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = async (route: 'upload' | 'batch-upload', files: Array<{ name: string; bytes: Buffer }>) => {
    const answer = await t.api.uploadFiles(token, files, route === 'upload' ? 'file' : 'files', `/file-upload/${route}`);
    return { status: answer.status, body: answer.body as Record<string, unknown> };
  };

  const cases: IntakeCase[] = [...sampleCases(), ...generatedCases(maxBytes)];

  it.each(cases.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    const bytes = c.bytes();
    const { status, body } = await post('upload', [{ name: c.fileName, bytes }]);
    expect(status).toBeLessThan(500);
    const expected = c.expected;
    if ('code' in expected) {
      const error = body as unknown as ErrorBody;
      expect({ status, code: error.code }).toEqual({ status: INTAKE_ERROR_HTTP_STATUS[expected.code], code: expected.code });
      expect(error.statusCode).toBe(status);
      expect(`${error.message} ${JSON.stringify(error.errors ?? [])}`).toContain(c.fileName.normalize('NFC'));
      return;
    }
    expect(status).toBe(201);
    expect(body).toMatchObject({
      name: expected.name ?? c.fileName,
      size: bytes.length,
      format: expected.format,
      encoding: expected.encoding,
      wordCount: countWords(expected.text),
    });
  });

  it('11 files in one batch → 400 too-many-files; 10 are taken', async () => {
    const story = { name: 'vi_thanh_giong.txt', bytes: sampleBytes('stories/vi/vi_thanh_giong.txt') };
    const eleven = await post('batch-upload', Array.from({ length: 11 }, () => story));
    expect(eleven.status).toBe(400);
    expect(eleven.body.code).toBe('too-many-files');

    const ten = await post('batch-upload', Array.from({ length: 10 }, (_, i) => ({ ...story, name: `story-${i}.txt` })));
    expect(ten.status).toBe(201);
    expect((ten.body.files as unknown[]).length).toBe(10);
  });

  it('a batch with one unreadable file names it with its code and keeps nothing', async () => {
    const { status, body } = await post('batch-upload', [
      { name: 'good.txt', bytes: sampleBytes('stories/en/en_grimm_frog_prince.txt') },
      { name: 'Ảnh bìa.txt', bytes: cases.find((c) => c.fileName === 'cover.txt')!.bytes() },
    ]);
    const error = body as unknown as ErrorBody;
    expect(status).toBe(415);
    expect(error.code).toBe('binary-content');
    expect(JSON.stringify(error)).toContain('Ảnh bìa.txt');
  });
});
