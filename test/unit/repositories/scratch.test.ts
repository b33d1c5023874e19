import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeScratchDir, removeOwnScratch, removeStaleScratch, SCRATCH_ROOT } from '../../../src/shared/scratch.js';

const scratchOf = (pid: number) => path.join(os.tmpdir(), `storyforge-scratch-${os.hostname()}-${pid}`);

describe('scratch space of worker processes', () => {
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  afterAll(() => {
    sleeper.kill('SIGKILL');
  });

  it('removes what a process that no longer runs left behind, and keeps live ones', async () => {
    // A process that has ended: its pid is free.
    const ended = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    const dead = scratchOf(ended);
    const live = scratchOf(sleeper.pid!);
    await fs.mkdir(path.join(dead, 'merge-abc123'), { recursive: true });
    await fs.writeFile(path.join(dead, 'merge-abc123', 'joined.wav'), Buffer.alloc(1024));
    await fs.mkdir(path.join(live, 'render-def456'), { recursive: true });
    const mine = await makeScratchDir('merge-');
    expect(path.dirname(mine)).toBe(SCRATCH_ROOT);

    expect(await removeStaleScratch()).toBeGreaterThanOrEqual(1);
    await expect(fs.access(dead)).rejects.toThrow();
    await fs.access(path.join(live, 'render-def456'));
    await fs.access(mine);

    // A folder still in use keeps this process's scratch space; once it is gone, so is the space.
    await removeOwnScratch();
    await fs.access(mine);
    await fs.rm(mine, { recursive: true });
    await removeOwnScratch();
    await expect(fs.access(SCRATCH_ROOT)).rejects.toThrow();
    await fs.rm(live, { recursive: true, force: true });
  });
});
