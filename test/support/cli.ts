import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built command line (`npm test` builds first). */
export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/cli.js');

/** How long a stopped CLI gets to end after SIGTERM (it cancels its batches and closes), ms, before SIGKILL. */
const STOP_GRACE_MS = 15_000;

/** A `storyforge` process started by a test. */
export interface StartedCli {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved. */
  output: () => string;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code, or the signal's name when a signal ended it. */
  exited: Promise<number | string>;
}

/** Every CLI process a test started that has not exited yet (see {@link stopClis}). */
const running = new Set<StartedCli>();

/**
 * Starts `storyforge ARGS` as a separate process. It is tracked until it exits: a test file's
 * `afterEach(stopClis)` ends it even when the test failed or timed out, so that it does not
 * keep holding an embedded database, a port or Redis keys for the tests after it.
 */
export function startCli(args: string[], env: Record<string, string> = {}): StartedCli {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
  let output = '';
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    output += d;
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    output += d;
    stderr += d;
  });
  const started: StartedCli = {
    child,
    output: () => output,
    stdout: () => stdout,
    stderr: () => stderr,
    exited: new Promise((resolve) => {
      child.on('close', (code, signal) => {
        running.delete(started);
        resolve(code ?? signal ?? -1);
      });
    }),
  };
  running.add(started);
  return started;
}

/**
 * Ends a started CLI: SIGTERM (the CLI shuts down cleanly: cancels, closes its database), then
 * SIGKILL after {@link STOP_GRACE_MS} if it is still there.
 * @returns its exit code or signal.
 */
export async function stopCli(cli: StartedCli, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
  if (cli.child.exitCode === null && cli.child.signalCode === null) {
    cli.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        cli.child.kill('SIGKILL');
        resolve();
      }, STOP_GRACE_MS);
    });
    await Promise.race([cli.exited, killed]);
    clearTimeout(timer);
  }
  return cli.exited;
}

/** Ends every CLI process still running (for afterEach / afterAll: nothing a failed test started outlives it). */
export async function stopClis(): Promise<void> {
  await Promise.all([...running].map((cli) => stopCli(cli)));
}

/**
 * Runs `storyforge ARGS` as a separate process; resolves with its exit code and output. The
 * process is tracked like {@link startCli}'s, and is stopped after `timeoutMs` (default 300 s).
 */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 300_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const cli = startCli(args, env);
  const timer = setTimeout(() => void stopCli(cli), timeoutMs);
  try {
    const ended = await cli.exited;
    return { code: typeof ended === 'number' ? ended : 1, stdout: cli.stdout(), stderr: cli.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
