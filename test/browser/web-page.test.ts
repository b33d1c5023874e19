import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { en } from '../../web/src/i18n/en.js';
import { vi } from '../../web/src/i18n/vi.js';
import { CLI, freePort } from '../support/cli.js';
import { FakeOpenAiServer, pngFor } from '../support/fake-openai-server.js';
import { removeRedisKeys } from '../support/redis.js';
import { sample } from '../support/samples.js';
import { createTestDatabase, waitFor } from '../support/test-app.js';

/**
 * The web page in a real browser (Debian's chromium, headless) against `storyforge serve` from
 * dist/ (run `npm run build` first): a creator registers, drops three story files and an empty
 * one, starts a batch with a 9:16 video, watches it finish live, listens, regenerates a picture,
 * downloads everything, and reads the pages in Vietnamese. Screenshots go to out/test-browser/.
 * Pictures come from a local server speaking OpenAI's image API, so that a regenerated picture
 * really differs; narration is espeak-ng. The server runs on a database of its own on the test
 * PostgreSQL server (what the page shows does not depend on the database; PostgreSQL starts in
 * well under a second where the embedded one takes much longer on a busy machine).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = path.resolve('out/test-browser');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PHONE = { width: 360, height: 780 };
const DESKTOP = { width: 1280, height: 900 };

/** Names of the entries of a ZIP file. */
function zipEntries(file: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const names: string[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        names.push(entry.fileName);
        zip.readEntry();
      });
      zip.on('end', () => resolve(names));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

/** The page's own words: everything visible plus placeholders, labels and titles, without what the user wrote (file names, story text). */
async function pageWords(page: Page): Promise<string> {
  return page.evaluate(() => {
    const clone = document.body.cloneNode(true) as HTMLElement;
    clone.querySelectorAll('.user-text, .lang-switch, audio, video, script').forEach((el) => el.remove());
    const attributes = [...clone.querySelectorAll('[placeholder], [aria-label], [title]')].flatMap((el) =>
      ['placeholder', 'aria-label', 'title'].map((name) => el.getAttribute(name) ?? ''),
    );
    const text = [...clone.querySelectorAll('*')].map((el) => [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join(' '));
    return [...text, ...attributes, document.title].join('\n');
  });
}

/** English words of the page that the Vietnamese dictionary says differently, found in `text`. */
function englishIn(text: string): string[] {
  const found = new Set<string>();
  for (const [key, words] of Object.entries(en)) {
    if (words === vi[key as keyof typeof en]) continue;
    // Compare the fixed part of each text (before any {placeholder}), of some length.
    const fixed = words.split(/\{\w+\}/)[0]!.trim();
    if (fixed.length >= 4 && text.includes(fixed)) found.add(fixed);
  }
  for (const match of text.matchAll(/\b(the|and|of|with|your|story|stories|batch|download|picture|pictures|narration|done|waiting|cancel|retry|start|open|words)\b/gi)) {
    found.add(match[0]);
  }
  return [...found];
}

/** Full-page screenshots at desktop and phone width: `<name>-desktop.png`, `<name>-phone.png`. */
async function screenshots(page: Page, name: string): Promise<void> {
  for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
    await page.setViewportSize(viewport);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(OUT, `${name}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize(DESKTOP);
}

async function imageHash(page: Page, index: number): Promise<string> {
  const bytes = await page.evaluate(async (i) => {
    const img = document.querySelector<HTMLImageElement>(`.picture[data-index="${i}"] img`)!;
    const response = await fetch(img.src);
    return [...new Uint8Array(await response.arrayBuffer())];
  }, index);
  return createHash('sha256').update(Buffer.from(bytes)).digest('hex');
}

describe.skipIf(!existsSync(CHROMIUM))('web page in a browser', () => {
  let dir: string;
  let server: ChildProcess | undefined;
  let output = '';
  let browser: Browser | undefined;
  let fake: FakeOpenAiServer;
  let base: string;
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  const queuePrefix = `sftest-web-${process.pid}`;

  beforeAll(async () => {
    if (!existsSync(path.resolve('dist/web/index.html'))) throw new Error('The web page is not built: run `npm run build` first');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-web-'));
    await fs.rm(OUT, { recursive: true, force: true });
    await fs.mkdir(OUT, { recursive: true });
    fake = new FakeOpenAiServer();
    const { baseUrl } = await fake.start();
    database = await createTestDatabase();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [CLI, 'serve', '--port', String(port)], {
      env: {
        ...process.env,
        DATA_DIR: path.join(dir, 'data'),
        DATABASE_URL: database.url,
        QUEUE_PREFIX: queuePrefix,
        LOG_LEVEL: 'warn',
        IMAGE_GENERATOR: 'openai-compatible',
        OPENAI_BASE_URL: baseUrl,
        OPENAI_API_KEY: 'test-key',
        OPENAI_IMAGE_SIZE: '1024x1536',
        VIDEO_SCALE: '0.25',
        VIDEO_PRESET: 'ultrafast',
      },
    });
    server.stdout!.on('data', (d) => (output += d));
    server.stderr!.on('data', (d) => (output += d));
    await waitFor(
      async () => {
        try {
          return (await fetch(`${base}/health`)).ok || undefined;
        } catch {
          return undefined;
        }
      },
      90_000,
      'storyforge serve to answer',
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    await fake?.close();
    await removeRedisKeys(REDIS_URL, queuePrefix).catch(() => undefined);
    await database?.drop().catch(() => undefined);
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('a creator makes a batch with a 9:16 video, follows it live, listens, regenerates a picture, downloads it, and reads it all in Vietnamese', async () => {
    const context = await browser!.newContext({ viewport: DESKTOP, acceptDownloads: true, locale: 'en-US' });
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const cspViolations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });

    // Register: an unknown visitor is sent to the login page.
    await page.goto(`${base}/`);
    await page.waitForURL(/\/login$/);
    await page.getByRole('link', { name: en['auth.register'] }).click();
    await page.getByLabel(en['auth.email']).fill('creator@example.com');
    await page.getByLabel(en['auth.password']).fill('a good password');
    await page.getByRole('button', { name: en['auth.register'] }).click();
    await page.getByRole('heading', { name: en['new.title'] }).waitFor();

    // Three sample files (one Vietnamese) and an empty .txt, through the file picker.
    const vietnamese = path.join(dir, 'vi_su_tich_cay_thi_la.txt');
    const full = await fs.readFile(sample('stories/vi/vi_su_tich_cay_thi_la.txt'), 'utf8');
    // Its title and first sentences, about 60 words, so that the run stays short.
    const words = full.split(/(?<=\s)/);
    await fs.writeFile(vietnamese, words.slice(0, words.findIndex((_, i) => i >= 60 && /[.!?]\s*$/.test(words[i]!)) + 1).join('').trim() + '\n');
    const empty = path.join(dir, 'empty.txt');
    await fs.writeFile(empty, '');
    await page.setInputFiles('#file-input', [vietnamese, sample('docs/nwe_test04_unicode_headers.doc'), sample('docs/mammoth_tables.docx'), empty]);
    await page.locator('.file[data-state="ready"]').nth(2).waitFor({ timeout: 30_000 });
    const refused = page.locator('.file[data-state="refused"]');
    await expect.poll(() => refused.count()).toBe(1);
    expect(await refused.locator('.file-name').textContent()).toBe('empty.txt');
    expect(await refused.locator('.file-reason').textContent()).toBe(en['refusal.empty-file']);
    expect(await page.locator('.file[data-state="ready"]').count()).toBe(3);

    // Small chunks, a 9:16 video with burned subtitles.
    await page.getByLabel(en['new.wordsPerImage']).fill('30');
    await page.getByLabel(en['new.wordsPerAudio']).fill('20');
    await page.getByLabel(en['new.videoOn']).check();
    await page.getByLabel(en['new.videoPortrait']).check();
    await page.getByLabel(en['new.burn']).check();
    const stepsPerStory = 5;
    await screenshots(page, 'new-batch');

    await page.getByRole('button', { name: en['new.start'].replace('{n}', '3') }).click();
    await page.waitForURL(/\/batch\/[0-9a-f-]{36}$/);
    const batchId = page.url().split('/').pop()!;

    // The page is never reloaded: it reads the state again on each live event only.
    const seen = new Set<number>();
    const finished = await waitFor(
      async () => {
        const values = await page.locator('progress').evaluateAll((bars) => bars.map((bar) => (bar as HTMLProgressElement).value));
        values.forEach((value) => seen.add(value));
        const status = await page.locator('.batch-page').getAttribute('data-status');
        if (status === 'failed' || status === 'partially_completed' || status === 'cancelled') throw new Error(`batch ended ${status}\n${output}`);
        return status === 'completed' && values.length > 0 && values.every((value) => value === 100) ? values : undefined;
      },
      240_000,
      'every progress bar to reach 100% from live events',
    );
    expect(finished.length).toBe(1 + 3 * stepsPerStory); // the batch, and text, pictures, narration, mix (and video) of each story
    expect([...seen].some((value) => value < 100)).toBe(true);
    await screenshots(page, 'batch');

    // Download all: one ZIP with a folder per story.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download-all').click()]);
    const zipPath = path.join(OUT, 'batch.zip');
    await download.saveAs(zipPath);
    const names = await zipEntries(zipPath);
    const folders = new Set(names.map((name) => name.split('/')[0]));
    expect(folders.size).toBe(3);
    expect(names.filter((name) => name.endsWith('/narration.mp3'))).toHaveLength(3);
    expect(names.filter((name) => name.endsWith('/video.mp4'))).toHaveLength(3);

    // The Vietnamese story: narration plays, the 9:16 video has subtitles.
    await page.locator('.story-row').first().getByRole('link', { name: en['batch.open'] }).click();
    await page.waitForURL(/\/story\/[0-9a-f-]{36}$/);
    const storyId = page.url().split('/').pop()!;
    const duration = await page.locator('#narration').evaluate(
      (audio: HTMLAudioElement) =>
        new Promise<number>((resolve, reject) => {
          if (audio.readyState >= 1) return resolve(audio.duration);
          audio.addEventListener('loadedmetadata', () => resolve(audio.duration), { once: true });
          audio.addEventListener('error', () => reject(new Error(`audio error ${audio.error?.code}`)), { once: true });
          audio.load();
        }),
    );
    expect(duration).toBeGreaterThan(1);
    const played = await page.locator('#narration').evaluate(
      (audio: HTMLAudioElement) =>
        new Promise<number>((resolve, reject) => {
          audio.muted = true;
          const timer = setTimeout(() => reject(new Error(`narration did not play (readyState ${audio.readyState})`)), 15_000);
          audio.addEventListener('timeupdate', function onTime() {
            if (audio.currentTime <= 0) return;
            audio.removeEventListener('timeupdate', onTime);
            clearTimeout(timer);
            audio.pause();
            resolve(audio.currentTime);
          });
          audio.play().catch(reject);
        }),
    );
    expect(played).toBeGreaterThan(0);
    const video = await page.locator('#video').evaluate(
      (el: HTMLVideoElement) =>
        new Promise<{ width: number; height: number; tracks: number }>((resolve, reject) => {
          const done = () => resolve({ width: el.videoWidth, height: el.videoHeight, tracks: el.textTracks.length });
          if (el.readyState >= 1) return done();
          el.addEventListener('loadedmetadata', done, { once: true });
          el.addEventListener('error', () => reject(new Error(`video error ${el.error?.code}`)), { once: true });
        }),
    );
    expect(video.height).toBeGreaterThan(video.width);
    expect(video.tracks).toBe(1);
    for (const id of ['#dl-narration', '#dl-video', '#dl-srt', '#dl-vtt', '#dl-package']) {
      expect(await page.locator(id).getAttribute('href'), id).toMatch(/^\/stories\//);
    }

    // Regenerate the first picture: the image server now answers with another picture.
    const before = await imageHash(page, 0);
    fake.enqueue('images', {
      kind: 'raw',
      body: JSON.stringify({ created: Math.floor(Date.now() / 1000), data: [{ b64_json: pngFor('a different picture', '1024x1536').toString('base64') }] }),
    });
    const oldSrc = await page.locator('.picture[data-index="0"] img').getAttribute('src');
    await page.locator('.picture[data-index="0"] .regen').click();
    await expect
      .poll(async () => page.locator('.picture[data-index="0"] img').getAttribute('src').catch(() => null), { timeout: 60_000, interval: 250 })
      .not.toBe(oldSrc);
    await page.locator('.picture[data-index="0"] img').evaluate((img: HTMLImageElement) => (img.complete ? null : new Promise((r) => img.addEventListener('load', r, { once: true }))));
    expect(await imageHash(page, 0)).not.toBe(before);
    // Wait for the video made again after the new picture, so that the story is settled for the screenshots.
    await page.locator('.story-page[data-status="completed"]').waitFor({ timeout: 120_000 });
    await screenshots(page, 'story');

    // Vietnamese: the choice is remembered across a reload, and no English is left on the three pages.
    await page.locator('#lang-vi').click();
    await page.reload();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('vi');
    for (const [url, ready] of [
      [`/story/${storyId}`, '.story-page'],
      [`/batch/${batchId}`, '.batch-page'],
      ['/', '.new-batch'],
      ['/history', '.history-item'],
    ] as const) {
      await page.goto(`${base}${url}`);
      await page.locator(ready).first().waitFor({ timeout: 90_000 });
      if (url === '/') {
        await page.setInputFiles('#file-input', [empty]);
        await page.locator('.file[data-state="refused"]').waitFor();
      }
      expect(englishIn(await pageWords(page)), url).toEqual([]);
      await screenshots(page, `vi-${ready.slice(1)}`);
    }

    // A title that looks like HTML is shown as text.
    const token = await page.evaluate(() => (JSON.parse(localStorage.getItem('storyforge.tokens')!) as { accessToken: string }).accessToken);
    const created = await fetch(`${base}/stories`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: '<img src=x onerror=alert(1)>\n\nOnce upon a time there was a title that looked like HTML.' }),
    });
    expect(created.status).toBe(201);
    const xss = (await created.json()) as { id: string };
    const generated = await fetch(`${base}/stories/${xss.id}/generate`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ autoMode: { enabled: false } }),
    });
    expect(generated.status).toBe(202);
    await page.goto(`${base}/story/${xss.id}`);
    // The title arrives with the story step's live events.
    await expect
      .poll(() => page.locator('#story-title .user-text').textContent(), { timeout: 30_000 })
      .toBe('<img src=x onerror=alert(1)>');
    expect(await page.locator('#story-title img').count()).toBe(0);

    // Keyboard: the skip link is the first stop, the language buttons can be reached with Tab.
    await page.goto(`${base}/`);
    await page.locator('.new-batch').waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.className)).toBe('skip');

    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
    await context.close();
  }, 420_000);

  it('serves the page with a strict CSP, answers page routes with it, and leaves API routes to the API', async () => {
    const home = await fetch(`${base}/batch/00000000-0000-0000-0000-000000000000`);
    expect(home.status).toBe(200);
    expect(home.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await home.text()).toContain('<div id="app">');
    const icon = await fetch(`${base}/favicon.svg`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(icon.headers.get('content-security-policy')).toContain("default-src 'self'");
    // Only the page's own files are served from its folder: nothing else there is reachable by name.
    expect((await fetch(`${base}/stories/favicon.svg`)).status).toBe(401);
    const api = await fetch(`${base}/stories/batches`);
    expect(api.status).toBe(401);
    expect(((await api.json()) as { code: string }).code).toBe('unauthorized');
  });

  it('the media cookie reads files but never writes', async () => {
    const registered = await fetch(`${base}/auth/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'cookie@example.com', password: 'a good password' }),
    });
    const { accessToken } = (await registered.json()) as { accessToken: string };
    const set = await fetch(`${base}/auth/cookie`, { method: 'POST', headers: { Authorization: `Bearer ${accessToken}` } });
    expect(set.status).toBe(204);
    const cookie = set.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^storyforge_token=[^;]+;/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    const pair = cookie.split(';')[0]!;
    expect((await fetch(`${base}/auth/me`, { headers: { Cookie: pair } })).status).toBe(200);
    expect((await fetch(`${base}/stories/batches`, { headers: { Cookie: pair } })).status).toBe(200);
    const write = await fetch(`${base}/stories`, { method: 'POST', headers: { Cookie: pair, 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'Once.' }) });
    expect(write.status).toBe(401);
    const cleared = await fetch(`${base}/auth/cookie`, { method: 'DELETE' });
    expect(cleared.status).toBe(204);
    expect(cleared.headers.get('set-cookie')).toMatch(/storyforge_token=;/);
  });
});
