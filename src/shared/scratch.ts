import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Folder name prefix of a process's scratch space in the system's temporary folder. */
const PREFIX = 'storyforge-scratch-';

/**
 * This process's scratch space: `<tmp>/storyforge-scratch-<host>-<pid>`. Every temporary folder of
 * media work (merge, render, cards, speech) is made inside it, so that what a killed process left
 * behind can be found and removed by the next one (see {@link removeStaleScratch}).
 */
export const SCRATCH_ROOT = path.join(os.tmpdir(), `${PREFIX}${os.hostname()}-${process.pid}`);

/**
 * Makes a new empty folder for temporary files, e.g. `merge-` → `<scratch root>/merge-Ab12Cd`.
 * The caller removes it when done.
 */
export async function makeScratchDir(prefix: string): Promise<string> {
  await fs.mkdir(SCRATCH_ROOT, { recursive: true });
  return fs.mkdtemp(path.join(SCRATCH_ROOT, prefix));
}

/**
 * Removes the scratch spaces of processes on this host that no longer run (killed with SIGKILL,
 * out of memory, power cut), with everything in them.
 * @returns how many were removed.
 */
export async function removeStaleScratch(): Promise<number> {
  const own = `${PREFIX}${os.hostname()}-`;
  let removed = 0;
  for (const name of await fs.readdir(os.tmpdir()).catch(() => [] as string[])) {
    if (!name.startsWith(own)) continue;
    const pid = Number(name.slice(own.length));
    if (!Number.isInteger(pid) || pid === process.pid || isRunning(pid)) continue;
    await fs.rm(path.join(os.tmpdir(), name), { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}

/**
 * Removes this process's scratch space at a clean shutdown, when it is empty (each user of it
 * removes its own folder; one still in use is left for {@link removeStaleScratch}).
 */
export async function removeOwnScratch(): Promise<void> {
  await fs.rmdir(SCRATCH_ROOT).catch(() => undefined);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}
