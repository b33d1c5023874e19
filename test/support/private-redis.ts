import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './cli.js';

/**
 * A `redis-server` of its own on a free port, without persistence (`--save "" --appendonly no`):
 * for tests that stop, kill or empty Redis without touching the shared one.
 */
export interface PrivateRedis {
  /** TCP port on 127.0.0.1 (the same across restarts). */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Starts the server (empty: nothing is persisted) and waits until it answers PING; no-op when running. */
  start(): Promise<void>;
  /**
   * Stops the server: SIGTERM by default, SIGKILL with `kill` (a crash). Every key is lost.
   * Resolves when the process has exited; no-op when stopped.
   */
  stop(options?: { kill?: boolean }): Promise<void>;
  /** Deletes every key (FLUSHALL), e.g. to simulate Redis losing its data while it stays up. */
  flushAll(): Promise<void>;
  /** Stops the server if it runs. Safe to call more than once. */
  cleanup(): Promise<void>;
}

/**
 * Starts a private `redis-server` (binary `REDIS_SERVER`, default `redis-server` on PATH).
 * @param args extra server arguments, e.g. `['--maxmemory-policy', 'allkeys-lru']`.
 * @throws Error when the server does not answer within 10 s.
 */
export async function startPrivateRedis(args: string[] = []): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let output = '';

  const ping = async (): Promise<boolean> => {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  };

  const server: PrivateRedis = {
    port,
    url,
    async start() {
      if (child) return;
      output = '';
      const proc = spawn(
        process.env.REDIS_SERVER ?? 'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', ...args],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child = proc;
      proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      proc.once('exit', () => {
        if (child === proc) child = undefined;
      });
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        if (!child) break;
        if (await ping()) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await server.stop({ kill: true });
      throw new Error(`private redis-server on port ${port} did not start:\n${output.slice(-2000)}`);
    },
    async stop(options = {}) {
      const proc = child;
      if (!proc) return;
      child = undefined;
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill(options.kill ? 'SIGKILL' : 'SIGTERM');
      await exited;
    },
    async flushAll() {
      const client = new Redis(url, { maxRetriesPerRequest: 1 });
      try {
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
    async cleanup() {
      await server.stop({ kill: true });
    },
  };
  await server.start();
  return server;
}
