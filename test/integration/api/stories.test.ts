import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { type HttpTestApp, startHttpTestApp } from '../../support/http-app.js';
import { probeAudio } from '../../support/media-probe.js';
import { waitFor } from '../../support/test-app.js';

const TEXT = [
  'The Lantern Keeper',
  '',
  'Every evening the old keeper climbed the hill and lit the lantern above the harbour. The boats came home by its light.',
  '',
  'One night the wind blew the flame out. The keeper climbed again, cupped his hands around the wick, and sang until the fire caught.',
  '',
  'In the morning every boat was safe, and the children of the town learned his song.',
].join('\n');

function zipEntries(bytes: Buffer): Promise<{ name: string; size: number }[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const entries: { name: string; size: number }[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        entries.push({ name: entry.fileName, size: entry.uncompressedSize });
        zip.readEntry();
      });
      zip.on('end', () => resolve(entries));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('stories over HTTP: text stories, manual steps, downloads, listing and deleting', () => {
  let t: HttpTestApp;
  let token: string;
  let storyId: string;

  const story = async () => (await t.api.get(`/stories/${storyId}`, { token })).body;
  const settled = () => waitFor(async () => { const s = await story(); return ['completed', 'failed'].includes(s.status) ? s : undefined; }, 60_000, 'story to settle');

  beforeAll(async () => {
    t = await startHttpTestApp();
    token = (await t.api.register('writer@example.com')).token;
  });
  afterAll(async () => t?.close());

  it('makes a story from text, generates it without auto mode, then runs images, audio and merge by hand', async () => {
    const created = await t.api.post('/stories', {
      token,
      json: { text: TEXT, language: 'en', style: { tone: 'calm' }, autoMode: { wordPerChunkImage: 20, wordPerChunkAudio: 15 } },
    });
    expect(created.status).toBe(201);
    storyId = created.body.id;
    expect(created.body).toMatchObject({
      status: 'pending',
      uploadId: null,
      steps: { story: 'pending', images: 'skipped', audio: 'skipped', merge: 'skipped' },
      autoMode: { enabled: false, wordPerChunkImage: 20, wordPerChunkAudio: 15 },
      originalContent: TEXT,
    });
    expect((await t.api.post(`/stories/${storyId}/images`, { token })).body.code).toBe('step-not-ready');
    expect((await t.api.post('/stories', { token, json: { text: 'x', fileId: storyId } })).body.errors.map((e: { field: string }) => e.field)).toEqual(['text', 'fileId']);

    expect((await t.api.post(`/stories/${storyId}/generate`, { token, json: {} })).status).toBe(202);
    let current = await settled();
    expect(current).toMatchObject({ status: 'completed', title: 'The Lantern Keeper', steps: { story: 'completed', images: 'skipped', audio: 'skipped', merge: 'skipped' } });
    expect(current.images.length).toBeGreaterThan(1);
    expect(current.images.every((c: { url: string | null }) => c.url === null)).toBe(true);
    expect((await t.api.post(`/stories/${storyId}/generate`, { token, json: {} })).body.code).toBe('step-not-startable');
    const early = await t.api.post(`/stories/${storyId}/merge`, { token });
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('step-not-ready');

    expect((await t.api.post(`/stories/${storyId}/images`, { token })).status).toBe(202);
    current = await settled();
    expect(current.steps).toMatchObject({ story: 'completed', images: 'completed', audio: 'skipped', merge: 'skipped' });
    expect((await t.api.post(`/stories/${storyId}/audio`, { token })).status).toBe(202);
    current = await settled();
    expect(current.steps).toMatchObject({ story: 'completed', images: 'completed', audio: 'completed', merge: 'skipped' });
    expect(current.narrationUrl).toBeNull();
    expect((await t.api.post(`/stories/${storyId}/merge`, { token })).status).toBe(202);
    current = await settled();
    expect(current).toMatchObject({ status: 'completed', steps: { story: 'completed', images: 'completed', audio: 'completed', merge: 'completed' }, progress: { percentage: 100 } });
    expect(current.narrationUrl).toBe(`/stories/${storyId}/narration`);
    expect(current.audio.every((c: { url: string; durationMs: number }) => c.url && c.durationMs > 0)).toBe(true);
    const again = await t.api.post(`/stories/${storyId}/images`, { token });
    expect(again.body).toMatchObject({ statusCode: 409, code: 'step-not-startable' });
  }, 120_000);

  it('serves narration, clips, images and a ZIP with their media types and byte ranges', async () => {
    const current = await story();
    const narration = await t.api.get(current.narrationUrl, { token });
    expect(narration.status).toBe(200);
    expect(narration.headers.get('content-type')).toBe('audio/mpeg');
    expect(narration.headers.get('accept-ranges')).toBe('bytes');
    expect(narration.headers.get('content-disposition')).toMatch(/^inline; filename="The-Lantern-Keeper.mp3"/);
    const file = path.join(t.config.dataDir, 'check.mp3');
    await fs.writeFile(file, narration.bytes);
    expect((await probeAudio(file)).codec).toBe('mp3');

    const size = narration.bytes.length;
    const part = await t.api.get(current.narrationUrl, { token, headers: { range: 'bytes=0-99' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 0-99/${size}`);
    expect(part.bytes.equals(narration.bytes.subarray(0, 100))).toBe(true);
    const tail = await t.api.get(current.narrationUrl, { token, headers: { range: 'bytes=-10' } });
    expect(tail.bytes.equals(narration.bytes.subarray(size - 10))).toBe(true);
    const outside = await t.api.get(current.narrationUrl, { token, headers: { range: `bytes=${size + 10}-` } });
    expect(outside.status).toBe(416);
    expect(outside.body).toMatchObject({ statusCode: 416, code: 'range-not-satisfiable' });
    expect(outside.headers.get('content-range')).toBe(`bytes */${size}`);

    const clip = await t.api.get(current.audio[0].url, { token, headers: { range: 'bytes=0-11' } });
    expect(clip.status).toBe(206);
    expect(clip.headers.get('content-type')).toBe('audio/wav');
    expect(clip.bytes.subarray(0, 4).toString('latin1')).toBe('RIFF');
    const image = await t.api.get(current.images[1].url, { token });
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(image.bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect((await t.api.get(`/stories/${storyId}/images/99`, { token })).status).toBe(404);

    const zip = await t.api.get(current.imagesZipUrl, { token });
    expect(zip.headers.get('content-type')).toBe('application/zip');
    const entries = await zipEntries(zip.bytes);
    expect(entries.map((e) => e.name)).toEqual(current.images.map((_: unknown, i: number) => `images/${String(i + 1).padStart(3, '0')}.png`));
    expect(entries[1]!.size).toBe(image.bytes.length);
  });

  it('lists your stories page by page, by batch and by status', async () => {
    for (const text of ['One. Two.', 'Three. Four.']) await t.api.post('/stories', { token, json: { text } });
    const first = await t.api.get('/stories?limit=2', { token });
    expect(first.body).toMatchObject({ page: 1, limit: 2, total: 3 });
    expect(first.body.items).toHaveLength(2);
    const second = await t.api.get('/stories?limit=2&page=2', { token });
    expect(second.body.items.map((s: { id: string }) => s.id)).toEqual([storyId]);
    expect((await t.api.get('/stories?status=pending', { token })).body.total).toBe(2);
    expect((await t.api.get('/stories?status=completed', { token })).body.items[0]).toMatchObject({ id: storyId, progress: { percentage: 100 } });
    expect((await t.api.get(`/stories?batchId=${storyId}`, { token })).body.total).toBe(0);
  });

  it('deletes a story with every file it made', async () => {
    const folder = path.join(t.config.dataDir, 'files', 'stories', storyId);
    expect(await fs.readdir(folder)).toEqual(expect.arrayContaining(['audio', 'images', 'narration.mp3']));
    expect((await t.api.delete(`/stories/${storyId}`, { token })).status).toBe(204);
    await expect(fs.access(folder)).rejects.toThrow();
    expect((await t.api.get(`/stories/${storyId}`, { token })).status).toBe(404);
    expect((await t.api.get(`/stories/${storyId}/narration`, { token })).status).toBe(404);
    expect((await t.api.delete(`/stories/${storyId}`, { token })).status).toBe(404);
  });
});
