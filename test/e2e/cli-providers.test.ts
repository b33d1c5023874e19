import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { removeRedisKeys } from '../support/redis.js';

/** `storyforge run --writer/--image-engine/--speech`: a choice that cannot work stops before any work. */
describe('storyforge run with provider flags', () => {
  let dir: string;
  const prefix = `sftest-cli-${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-providers-'));
    await fs.writeFile(path.join(dir, 'tale.txt'), 'Ngày xửa ngày xưa có một cô bé sống bên bờ sông.');
  });
  afterAll(async () => {
    await removeRedisKeys('redis://127.0.0.1:6379', prefix);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('exits 2 naming the flag and the valid values, and makes nothing', async () => {
    const out = path.join(dir, 'out');
    const env = { DATA_DIR: path.join(dir, 'data'), QUEUE_PREFIX: prefix, ELEVENLABS_API_KEY: '' };
    const result = await runCli(['run', path.join(dir, 'tale.txt'), '--out', out, '--language', 'vi', '--speech', 'edge:vi-VN-NoSuchNeural', '--image-engine', 'elevenlabs'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--speech: edge has no voice "vi-VN-NoSuchNeural"; valid for vi: vi-VN-HoaiMyNeural, vi-VN-NamMinhNeural/);
    expect(result.stderr).toMatch(/--image-engine: unknown provider "elevenlabs"; valid: card, /);
    await expect(fs.access(path.join(out, 'tale'))).rejects.toThrow();
  });
});
