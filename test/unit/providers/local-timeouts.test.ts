import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CardImageGenerator } from '../../../src/providers/image/card.js';
import { ProviderError } from '../../../src/providers/provider-error.js';
import { EspeakNgSynthesizer } from '../../../src/providers/speech/espeak-ng.js';
import type { MediaRepository } from '../../../src/repositories/media.repository.js';
import type { RenderCardOptions } from '../../../src/providers/ports.js';

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error,
  );
}

describe('espeak-ng deadline and abort', () => {
  let dir = '';
  let hangingBinary = '';

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'storyforge-espeak-stub-'));
    hangingBinary = path.join(dir, 'espeak-ng');
    // `exec` so that killing the process also ends the sleep.
    await writeFile(hangingBinary, '#!/bin/sh\nexec sleep 30\n');
    await chmod(hangingBinary, 0o755);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('kills a call that passes timeoutMs and reports it as transient', async () => {
    const speech = new EspeakNgSynthesizer({ binary: hangingBinary, timeoutMs: 300 });
    const started = Date.now();
    const error = await failure(speech.synthesize({ text: 'Hello.', language: 'en' }));
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).kind).toBe('transient');
    expect((error as ProviderError).message).toContain('timed out');
    expect((error as ProviderError).message).toContain('300 ms');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("rethrows the caller's abort, not a ProviderError", async () => {
    const speech = new EspeakNgSynthesizer({ binary: hangingBinary, timeoutMs: 60_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('cancelled by user')), 200);
    const started = Date.now();
    const error = await failure(speech.synthesize({ text: 'Hello.', language: 'en', signal: controller.signal }));
    expect(error).not.toBeInstanceOf(ProviderError);
    expect((error as Error).name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('card deadline and abort', () => {
  /** A renderer that never finishes by itself: it fails like execFile once its signal aborts. */
  const hangingMedia = {
    renderCard: (options: RenderCardOptions) =>
      new Promise<void>((_resolve, reject) => {
        options.signal?.addEventListener('abort', () => reject(Object.assign(new Error('The operation was aborted'), { name: 'AbortError' })), {
          once: true,
        });
      }),
  } as unknown as MediaRepository;
  const request = { prompt: 'p', text: 'Once upon a time.', index: 0, total: 1, title: 'T', style: {}, language: 'en' };

  it('stops a card that passes timeoutMs and reports it as transient', async () => {
    const cards = new CardImageGenerator(hangingMedia, { fontFile: '/unused.ttf', timeoutMs: 200 });
    const error = await failure(cards.generate(request));
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).kind).toBe('transient');
    expect((error as ProviderError).message).toContain('200 ms (timed out)');
  });

  it("rethrows the caller's abort, not a ProviderError", async () => {
    const cards = new CardImageGenerator(hangingMedia, { fontFile: '/unused.ttf', timeoutMs: 60_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await failure(cards.generate({ ...request, signal: controller.signal }));
    expect(error).not.toBeInstanceOf(ProviderError);
    expect((error as Error).name).toBe('AbortError');
  });
});
