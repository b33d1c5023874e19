import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorageRepository } from '../../../src/repositories/local-storage.repository.js';
import { S3StorageRepository } from '../../../src/repositories/s3-storage.repository.js';
import type { StorageRepository } from '../../../src/repositories/storage.repository.js';
import { S3_TEST_CREDENTIALS, startS3Server, type TestS3Server } from '../../support/s3-server.js';

let s3: TestS3Server;
let dataDir: string;
let scratch: string;

beforeAll(async () => {
  Object.assign(process.env, S3_TEST_CREDENTIALS);
  s3 = await startS3Server();
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-storage-'));
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-storage-scratch-'));
});

afterAll(async () => {
  await s3?.close();
  await fs.rm(dataDir, { recursive: true, force: true });
  await fs.rm(scratch, { recursive: true, force: true });
});

const s3Settings = (prefix: string, presignedDownloads = false) => ({
  bucket: s3.bucket,
  endpoint: s3.endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  prefix,
  presignedDownloads,
  presignedTtlS: 300,
});

const drivers: [string, () => StorageRepository][] = [
  ['local folder', () => new LocalStorageRepository({ dataDir })],
  ['S3 bucket', () => new S3StorageRepository(s3Settings('tenant-a'))],
];

describe.each(drivers)('storage in a %s', (_name, make) => {
  let storage: StorageRepository;
  beforeAll(() => {
    storage = make();
  });

  it('writes, reads, sizes, lists and removes keys', async () => {
    await storage.write('stories/s1/images/001.png', Buffer.from('first'));
    await storage.write('stories/s1/images/002.png', Buffer.from('second!'));
    await storage.write('stories/s1/narration.mp3', Buffer.from('voice'));
    expect((await storage.read('stories/s1/images/002.png')).toString()).toBe('second!');
    expect(await storage.size('stories/s1/images/002.png')).toBe(7);
    expect(await storage.exists('stories/s1/images/001.png')).toBe(true);
    expect(await storage.exists('stories/s1/images/003.png')).toBe(false);
    expect(await storage.list('stories/s1/images')).toEqual(['stories/s1/images/001.png', 'stories/s1/images/002.png']);
    expect(await storage.list('stories/nothing')).toEqual([]);
    await storage.remove('stories/s1/images/001.png');
    await storage.remove('stories/s1/images/001.png'); // missing: not an error
    expect(await storage.list('stories/s1/images')).toEqual(['stories/s1/images/002.png']);
    await expect(storage.read('stories/s1/images/001.png')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps staged bytes out of the key until placed, and removes what was never placed', async () => {
    await storage.write('stories/s2/audio/001.mp3', Buffer.from('old'));
    const placed = await storage.stage('stories/s2/audio/001.mp3', Buffer.from('new'));
    const dropped = await storage.stage('stories/s2/audio/002.mp3', Buffer.from('never'));
    const left = await storage.stage('stories/s2/audio/003.mp3', Buffer.from('killed'));
    expect((await storage.read('stories/s2/audio/001.mp3')).toString()).toBe('old');
    expect(await storage.list('stories/s2/audio')).toEqual(['stories/s2/audio/001.mp3']);
    await storage.place(placed, 'stories/s2/audio/001.mp3');
    await storage.discard(dropped);
    expect((await storage.read('stories/s2/audio/001.mp3')).toString()).toBe('new');
    expect(await fs.readFile(left, 'utf8')).toBe('killed'); // a local file tools can read
    // What a killed process staged is removed: the local driver's beside the key, the bucket's with the scratch space.
    await storage.removePartial('stories/s2/audio');
    await storage.discard(left);
    await storage.discard(left); // already gone: not an error
    await expect(fs.access(placed)).rejects.toThrow();
    await expect(fs.access(dropped)).rejects.toThrow();
    expect(await storage.list('stories/s2/audio')).toEqual(['stories/s2/audio/001.mp3']);
  });

  it('moves a finished local file in, and gives files back for tools and exports', async () => {
    const made = path.join(scratch, `render-${Math.random()}.mp4`);
    await fs.writeFile(made, 'video bytes');
    await storage.moveIn('stories/s3/video.mp4', made);
    await expect(fs.access(made)).rejects.toThrow();
    const local = await storage.localFile('stories/s3/video.mp4', scratch);
    expect(path.extname(local)).toBe('.mp4');
    expect(await fs.readFile(local, 'utf8')).toBe('video bytes');
    const exported = path.join(scratch, 'exported.mp4');
    await storage.copyToFile('stories/s3/video.mp4', exported);
    expect(await fs.readFile(exported, 'utf8')).toBe('video bytes');
    expect(await text(storage.openRead('stories/s3/video.mp4'))).toBe('video bytes');
    await expect(text(storage.openRead('stories/s3/missing.mp4'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(storage.localFile('stories/s3/missing.mp4', scratch)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('removes a folder-like prefix with everything under it, and nothing beside it', async () => {
    await storage.write('stories/ab/images/001.png', Buffer.from('1'));
    await storage.write('stories/ab/narration.mp3', Buffer.from('2'));
    await storage.write('stories/abc/narration.mp3', Buffer.from('3'));
    await storage.removePrefix('stories/ab');
    expect(await storage.exists('stories/ab/images/001.png')).toBe(false);
    expect(await storage.exists('stories/ab/narration.mp3')).toBe(false);
    expect(await storage.exists('stories/abc/narration.mp3')).toBe(true);
  });

  it('refuses keys that are not server-made', async () => {
    await expect(storage.write('stories/../secret', Buffer.from('x'))).rejects.toThrow(/Invalid storage key/);
  });

  it('passes its readiness check', async () => {
    await expect(storage.check()).resolves.toBeUndefined();
  });
});

describe('downloads from a bucket', () => {
  it('streams a range with the bucket object headers, and answers 304 to a matching ETag', async () => {
    const storage = new S3StorageRepository(s3Settings(''));
    await storage.write('uploads/u1/original.txt', Buffer.from('0123456789'));
    const request = { contentType: 'text/plain', contentDisposition: 'attachment; filename="a.txt"' };
    const whole = await storage.download('uploads/u1/original.txt', request);
    expect(whole).toMatchObject({ kind: 'stream', status: 200, headers: { 'Content-Length': '10' } });
    if (whole.kind !== 'stream') throw new Error('not a stream');
    expect(await text(whole.body!)).toBe('0123456789');
    const part = await storage.download('uploads/u1/original.txt', { ...request, range: 'bytes=2-5' });
    expect(part).toMatchObject({ kind: 'stream', status: 206, headers: { 'Content-Range': 'bytes 2-5/10', 'Content-Length': '4' } });
    if (part.kind !== 'stream') throw new Error('not a stream');
    expect(await text(part.body!)).toBe('2345');
    const again = await storage.download('uploads/u1/original.txt', { ...request, ifNoneMatch: whole.headers.ETag });
    expect(again).toMatchObject({ kind: 'stream', status: 304 });
    await expect(storage.download('uploads/u1/missing.txt', request)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('redirects to a presigned URL that serves the file under the name the API gives', async () => {
    const storage = new S3StorageRepository(s3Settings('', true));
    await storage.write('uploads/u2/original.txt', Buffer.from('hello'));
    const answer = await storage.download('uploads/u2/original.txt', { contentType: 'text/plain', contentDisposition: 'attachment; filename="story.txt"' });
    if (answer.kind !== 'redirect') throw new Error(`expected a redirect, got ${answer.kind}`);
    const response = await fetch(answer.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="story.txt"');
    expect(await response.text()).toBe('hello');
    await expect(storage.download('uploads/u2/missing.txt', { contentType: 'text/plain', contentDisposition: 'inline' })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('storage in a local folder', () => {
  it('stages beside the key, and removes the .part files a killed process left', async () => {
    const storage = new LocalStorageRepository({ dataDir });
    const left = await storage.stage('stories/s9/audio/001.mp3', Buffer.from('killed'));
    expect(path.dirname(left)).toBe(path.join(dataDir, 'files', 'stories', 's9', 'audio'));
    expect(await storage.removePartial('stories/s9/audio')).toBe(1);
    expect(await storage.removePartial('stories/s9/audio')).toBe(0);
  });
});
