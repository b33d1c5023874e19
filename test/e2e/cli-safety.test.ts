import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCli, startCli, stopCli, stopClis } from '../support/cli.js';
import { removeRedisKeys } from '../support/redis.js';
import { sample } from '../support/samples.js';
import { waitFor } from '../support/test-app.js';

/** `storyforge run` must not harm what is already there, nor hang when a service is missing. */
describe('storyforge run keeps what is already there', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-safety-'));
  });
  afterEach(stopClis);
  afterAll(async () => {
    await stopClis();
    await removeRedisKeys('redis://127.0.0.1:6379', 'sftest-lock');
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('never replaces a folder it did not write, and replaces its own on the next run', async () => {
    const out = path.join(dir, 'out');
    const input = path.join(dir, 'photos.txt');
    await fs.copyFile(sample('stories/vi/vi_su_tich_cay_thi_la.txt'), input);
    await fs.mkdir(path.join(out, 'photos'), { recursive: true });
    await fs.writeFile(path.join(out, 'photos', 'wedding.jpg'), 'precious');
    const env = { DATA_DIR: path.join(dir, 'data') };

    const first = await runCli(['run', input, '--out', out, '--no-images', '--no-audio'], env);
    expect(first.code).toBe(0);
    expect(await fs.readFile(path.join(out, 'photos', 'wedding.jpg'), 'utf8')).toBe('precious');
    expect(first.stdout).toContain(path.join(out, 'photos-2'));
    await expect(fs.access(path.join(out, 'photos-2', 'story.md'))).resolves.toBeUndefined();

    const second = await runCli(['run', input, '--out', out, '--no-images', '--no-audio'], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(path.join(out, 'photos-2'));
    expect((await fs.readdir(out)).filter((name) => name.startsWith('photos')).sort()).toEqual(['photos', 'photos-2']);
  });

  it('says within seconds that Redis is unreachable, and exits 2', async () => {
    const started = Date.now();
    const result = await runCli(['run', sample('stories/vi/vi_thanh_giong.txt'), '--out', path.join(dir, 'no-redis')], {
      DATA_DIR: path.join(dir, 'data-no-redis'),
      REDIS_URL: 'redis://127.0.0.1:6390',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Redis is not reachable at redis://127.0.0.1:6390');
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('refuses a second process on the same embedded database instead of corrupting it', async () => {
    const dataDir = path.join(dir, 'data-shared');
    const serve = startCli(['serve', '--port', String(await freePort())], { DATA_DIR: dataDir, QUEUE_PREFIX: 'sftest-lock' });
    try {
      await waitFor(async () => (serve.output().includes('Listening on') ? true : undefined), 180_000, 'serve to start');
      const result = await runCli(['run', sample('stories/vi/vi_thanh_giong.txt'), '--out', path.join(dir, 'locked')], { DATA_DIR: dataDir });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('is in use by another storyforge process');
      // The account commands say how to do it while serve runs.
      for (const args of [['user', 'create', '--email', 'lan@example.com', '--password', 'correct horse'], ['apikey', 'create', '--email', 'lan@example.com']]) {
        const account = await runCli(args, { DATA_DIR: dataDir });
        expect(account.code, args.join(' ')).toBe(2);
        expect(account.stderr).toContain('POST /auth/register');
        expect(account.stderr).toContain('POST /api-keys');
      }
    } finally {
      await stopCli(serve);
    }
  }, 300_000);
});

describe('storyforge without a command', () => {
  it('prints the help on stderr and exits 2 (bad usage), while --help prints it on stdout and exits 0', async () => {
    const bare = await runCli([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe('');
    expect(bare.stderr).toContain('Usage: storyforge');
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: storyforge');
  }, 120_000);
});
