import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadTempDir } from '../../src/config/upload-temp-dir.js';
import { MAX_TEXT_CHARS } from '../../src/text/extract.js';
import { startHttpTestApp, type HttpTestApp } from '../support/http-app.js';
import { waitFor } from '../support/test-app.js';

const LINE = 'Ngày xửa ngày xưa, có một cô bé quàng khăn đỏ đi qua khu rừng.\n\n';

/** About `chars` characters of Vietnamese text. */
function text(chars: number): string {
  return LINE.repeat(Math.ceil(chars / LINE.length)).slice(0, chars);
}

/**
 * A multipart upload written piece by piece over a socket of its own, so that a test can look at
 * the server between two pieces of one file.
 */
class StreamedUpload {
  private readonly boundary = `----storyforge${randomBytes(8).toString('hex')}`;
  private readonly request: http.ClientRequest;
  readonly answer: Promise<{ status: number; body: { code: string; message: string; errors?: { field: string; message: string }[] } }>;

  constructor(url: string, route: string, token: string) {
    this.request = http.request(`${url}${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${this.boundary}` },
    });
    this.answer = new Promise((resolve, reject) => {
      this.request.on('error', reject);
      this.request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      });
    });
  }

  /** Starts a file part. */
  file(field: string, name: string): Promise<void> {
    return this.write(`--${this.boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${name}"\r\nContent-Type: text/plain\r\n\r\n`);
  }

  /** Ends a file part. */
  endFile(): Promise<void> {
    return this.write('\r\n');
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.request.write(data, (error) => (error ? reject(error) : resolve())));
  }

  async end(): Promise<void> {
    await this.write(`--${this.boundary}--\r\n`);
    this.request.end();
  }
}

describe('a text upload over the character limit over HTTP', () => {
  let t: HttpTestApp;
  let token: string;

  beforeAll(async () => {
    t = await startHttpTestApp({ workers: false, env: { RATE_LIMIT_UPLOAD: '100000', UPLOAD_MAX_BYTES: String(10 * 1024 * 1024) } });
    token = (await t.api.register(`limit-${randomBytes(4).toString('hex')}@example.com`)).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  const received = () => fs.readdir(uploadTempDir(t.config));
  const uploadsKept = async () => (await t.api.get('/file-upload', { token })).body.total as number;

  it('is refused with 413 once the limit is passed, while the rest is still being sent, and nothing is kept', async () => {
    const upload = new StreamedUpload(t.baseUrl, '/file-upload/upload', token);
    await upload.file('file', 'Truyện quá dài.txt');
    await upload.write(text(1_000_000));
    // Under the limit: the file is being received.
    await waitFor(async () => ((await received()).length === 1 ? true : undefined), 60_000, 'the file to be received');
    await upload.write(text(MAX_TEXT_CHARS));
    // Over it: the file is refused and removed before the request has ended.
    await waitFor(async () => ((await received()).length === 0 ? true : undefined), 60_000, 'the file to be refused');
    await upload.write(text(1_000_000));
    await upload.endFile();
    await upload.end();

    const { status, body } = await upload.answer;
    expect(status).toBe(413);
    expect(body.code).toBe('file-too-large');
    expect(body.message).toContain('"Truyện quá dài.txt" holds more than 2,000,000 characters');
    expect(body.errors).toEqual([{ field: 'file', message: expect.stringContaining('(file-too-large)') }]);
    expect(await received()).toEqual([]);
    expect(await uploadsKept()).toBe(0);
  }, 180_000);

  it('names the refused file of a batch as files[i] and keeps none of the batch', async () => {
    const upload = new StreamedUpload(t.baseUrl, '/file-upload/batch-upload', token);
    await upload.file('files', 'short.txt');
    await upload.write(text(5_000));
    await upload.endFile();
    await upload.file('files', 'long.txt');
    await upload.write(text(MAX_TEXT_CHARS + 100_000));
    await upload.endFile();
    await upload.end();

    const { status, body } = await upload.answer;
    expect(status).toBe(413);
    expect(body.message).toContain('No file of this request was kept');
    expect(body.errors?.map((e) => e.field)).toEqual(['files[1]']);
    await waitFor(async () => ((await received()).length === 0 ? true : undefined), 60_000, 'the received files to be removed');
    expect(await uploadsKept()).toBe(0);
  });

  it('takes text just under the limit, though its bytes are far more than its characters', async () => {
    const story = text(MAX_TEXT_CHARS - 10_000);
    // CRLF line ends (one character each once stored) and trailing spaces (removed).
    const crlf = Buffer.from(story.replace(/\n/g, '   \r\n'), 'utf8');
    const utf16 = Buffer.from(`\uFEFF${story}`, 'utf16le');
    for (const [name, bytes] of [['crlf.txt', crlf], ['utf16.txt', utf16]] as const) {
      const answer = await t.api.uploadFiles(token, [{ name, bytes }], 'file', '/file-upload/upload');
      expect({ name, status: answer.status }).toEqual({ name, status: 201 });
      expect(answer.body.size).toBe(bytes.length);
    }
  });
});
