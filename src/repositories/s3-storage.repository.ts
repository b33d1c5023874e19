import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { AppConfig } from '../config/config.js';
import { SCRATCH_ROOT } from '../shared/scratch.js';
import { assertStorageKey, type Download, type DownloadRequest, StorageRepository } from './storage.repository.js';

/** Settings of the S3 driver (see AppConfig.storage.s3). */
export type S3Settings = NonNullable<AppConfig['storage']['s3']>;

/** Most keys one DeleteObjects request takes (an S3 limit). */
const DELETE_BATCH = 1000;

/** A missing key: an Error with `code` ENOENT, like the local driver's, so callers handle both alike. */
function missingKey(key: string, cause?: unknown): Error {
  return Object.assign(new Error(`${key} is not in storage`, { cause }), { code: 'ENOENT' });
}

const statusOf = (error: unknown) => (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/**
 * Storage in a bucket of AWS S3 or an S3-compatible store (MinIO, Cloudflare R2, Ceph …), under
 * an optional key prefix. Every write is one PutObject (or a multipart upload for a large file),
 * which S3 makes visible whole or not at all; staged bytes wait in a local scratch file until
 * placed. Checksums are sent and checked only
 * where S3 requires them, which every S3-compatible store accepts.
 */
export class S3StorageRepository extends StorageRepository {
  private readonly client: S3Client;

  constructor(private readonly settings: S3Settings) {
    super();
    // On Node < 22 the SDK prints a warning at the first client that its releases after January
    // 2027 will need Node 22. The version in package-lock.json runs on Node 20, so the warning is
    // noise in every command's output; the SDK's documented switch turns it off unless it is set.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new S3Client({
      region: settings.region,
      endpoint: settings.endpoint,
      forcePathStyle: settings.forcePathStyle,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** The bucket's object key of a storage key (the prefix, then the key). @throws Error for an unsafe key. */
  objectKey(key: string): string {
    assertStorageKey(key);
    return this.settings.prefix ? `${this.settings.prefix}/${key}` : key;
  }

  async write(key: string, data: Uint8Array): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.settings.bucket, Key: this.objectKey(key), Body: data }));
  }

  /**
   * Keeps the bytes in this process's scratch space until placed (a killed process's are removed
   * with its scratch space, see removeStaleScratch).
   * @returns the staged file's local path.
   */
  async stage(key: string, data: Uint8Array): Promise<string> {
    assertStorageKey(key);
    const dir = path.join(SCRATCH_ROOT, 'staged');
    await fs.mkdir(dir, { recursive: true });
    const staged = path.join(dir, `${randomUUID()}-${path.posix.basename(key)}`);
    await fs.writeFile(staged, data);
    return staged;
  }

  /** One PutObject of the staged file; the local file is removed after. */
  async place(staged: string, key: string): Promise<void> {
    await this.write(key, await fs.readFile(staged));
    await fs.rm(staged, { force: true });
  }

  async discard(staged: string): Promise<void> {
    await fs.rm(staged, { force: true });
  }

  /** Uploads the file (in parts when large), then removes it. */
  async moveIn(key: string, sourceFile: string): Promise<void> {
    await new Upload({
      client: this.client,
      params: { Bucket: this.settings.bucket, Key: this.objectKey(key), Body: createReadStream(sourceFile) },
    }).done();
    await fs.rm(sourceFile, { force: true });
  }

  /** Downloads the key into `scratchDir` under a new name that keeps the key's extension. */
  async localFile(key: string, scratchDir: string): Promise<string> {
    const target = path.join(scratchDir, `${randomUUID().slice(0, 8)}-${path.posix.basename(key)}`);
    await this.copyToFile(key, target);
    return target;
  }

  async copyToFile(key: string, target: string): Promise<void> {
    const object = await this.get(key);
    await pipeline(object.Body as Readable, createWriteStream(target));
  }

  async read(key: string): Promise<Buffer> {
    const object = await this.get(key);
    return Buffer.from(await object.Body!.transformToByteArray());
  }

  openRead(key: string): Readable {
    const get = () => this.get(key);
    async function* bytes(): AsyncGenerator<Buffer> {
      const object = await get();
      for await (const chunk of object.Body as Readable) yield chunk as Buffer;
    }
    return Readable.from(bytes(), { objectMode: false });
  }

  /**
   * A redirect to a presigned GET URL (S3_PRESIGNED_DOWNLOADS) that names the file as the API
   * would, or the object streamed with the request's range and conditions handed to S3.
   * @throws Error with code ENOENT when the key is missing; one with `status` 416 for a range
   * outside the object.
   */
  async download(key: string, request: DownloadRequest): Promise<Download> {
    if (this.settings.presignedDownloads) {
      if (!(await this.exists(key))) throw missingKey(key);
      const command = new GetObjectCommand({
        Bucket: this.settings.bucket,
        Key: this.objectKey(key),
        ResponseContentType: request.contentType,
        ResponseContentDisposition: request.contentDisposition,
      });
      return { kind: 'redirect', url: await getSignedUrl(this.client, command, { expiresIn: this.settings.presignedTtlS }) };
    }
    let object: GetObjectCommandOutput;
    try {
      object = await this.client.send(
        new GetObjectCommand({
          Bucket: this.settings.bucket,
          Key: this.objectKey(key),
          Range: request.range,
          IfNoneMatch: request.ifNoneMatch,
          IfModifiedSince: request.ifModifiedSince ? new Date(request.ifModifiedSince) : undefined,
        }),
      );
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) throw missingKey(key, error);
      if (status === 304) return { kind: 'stream', status: 304, headers: request.ifNoneMatch ? { ETag: request.ifNoneMatch } : {} };
      if (status === 416) {
        const size = await this.size(key);
        throw Object.assign(new Error('The requested range is outside the file', { cause: error }), { status: 416, headers: { 'Content-Range': `bytes */${size}` } });
      }
      throw error;
    }
    const headers: Record<string, string> = { 'Accept-Ranges': 'bytes' };
    if (object.ContentLength !== undefined) headers['Content-Length'] = String(object.ContentLength);
    if (object.ContentRange) headers['Content-Range'] = object.ContentRange;
    if (object.ETag) headers.ETag = object.ETag;
    if (object.LastModified) headers['Last-Modified'] = object.LastModified.toUTCString();
    return { kind: 'stream', status: object.ContentRange ? 206 : 200, headers, body: object.Body as Readable };
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: this.objectKey(key) }));
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
  }

  async size(key: string): Promise<number> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: this.objectKey(key) }));
      return head.ContentLength ?? 0;
    } catch (error) {
      if (statusOf(error) === 404) throw missingKey(key, error);
      throw error;
    }
  }

  async remove(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: this.objectKey(key) }));
  }

  async removePrefix(prefix: string): Promise<void> {
    await this.deleteObjects(await this.objectsUnder(prefix, false));
  }

  /** Removes `.part` objects (none is made by this driver; another tool's interrupted copy may leave some). */
  async removePartial(prefix: string): Promise<number> {
    const partial = (await this.objectsUnder(prefix, true)).filter((objectKey) => objectKey.endsWith('.part'));
    await this.deleteObjects(partial);
    return partial.length;
  }

  async list(prefix: string): Promise<string[]> {
    const strip = this.settings.prefix ? this.settings.prefix.length + 1 : 0;
    return (await this.objectsUnder(prefix, true))
      .filter((objectKey) => !objectKey.endsWith('.part'))
      .map((objectKey) => objectKey.slice(strip))
      .sort();
  }

  /** Writes and removes a probe object: the bucket exists and the credentials may write to it. */
  async check(): Promise<void> {
    const probe = `ready/${os.hostname()}-${process.pid}`;
    await this.write(probe, Buffer.from('ok'));
    await this.remove(probe);
  }

  /** Stops the client's connections (at shutdown). */
  destroy(): void {
    this.client.destroy();
  }

  private async get(key: string): Promise<GetObjectCommandOutput> {
    try {
      return await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: this.objectKey(key) }));
    } catch (error) {
      if (statusOf(error) === 404) throw missingKey(key, error);
      throw error;
    }
  }

  /** Object keys under `prefix/`: directly under it (`direct`) or at any depth. */
  private async objectsUnder(prefix: string, direct: boolean): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.settings.bucket,
          Prefix: `${this.objectKey(prefix)}/`,
          Delimiter: direct ? '/' : undefined,
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  private async deleteObjects(objectKeys: string[]): Promise<void> {
    for (let start = 0; start < objectKeys.length; start += DELETE_BATCH) {
      const batch = objectKeys.slice(start, start + DELETE_BATCH);
      const result = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.settings.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
      if (result.Errors?.length) {
        const first = result.Errors[0]!;
        throw new Error(`Could not remove ${result.Errors.length} objects from the bucket, e.g. ${first.Key}: ${first.Code} ${first.Message}`);
      }
    }
  }
}
