import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './cli.js';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of its own (own data directory, port and process), for tests that stop,
 * kill and restart the server without touching the shared one. Trust authentication, user
 * `postgres`, listening on 127.0.0.1 only.
 */
export interface PrivatePostgres {
  /** TCP port on 127.0.0.1 (the same across restarts). */
  readonly port: number;
  /** Root folder (data directory, socket and server log); removed by {@link cleanup}. */
  readonly dir: string;
  /** Connection string for `database` (default `postgres`). */
  url(database?: string): string;
  /** Starts the server and waits until it accepts connections (no-op when running). */
  start(): Promise<void>;
  /**
   * Stops the server: `fast` (default) ends sessions with SQLSTATE 57P01 and rolls back open
   * transactions, like a service restart; `immediate` quits without a clean shutdown, like a crash.
   * No-op when stopped.
   */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops (`fast`), waits `downMs` (default 0), starts again. */
  restart(downMs?: number): Promise<void>;
  /** Whether the server is running (per `pg_ctl status`). */
  running(): Promise<boolean>;
  /** Stops the server if it runs and deletes its folder. Safe to call more than once. */
  cleanup(): Promise<void>;
}

/**
 * Creates (initdb) and starts a private PostgreSQL cluster on a free port.
 * Finds the server binaries under `PG_BIN` or `/usr/lib/postgresql/<newest>/bin`. When the test
 * runs as root, the server runs as the `postgres` system user (PostgreSQL refuses root).
 * @throws Error when no PostgreSQL server binaries are installed or the cluster does not start.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'sf-pg-'));
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await fsp.chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const pgCommand = (name: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, name), ...args]) : run(path.join(bin, name), args);

  await pgCommand('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  let cleaned = false;

  const cluster: PrivatePostgres = {
    port,
    dir,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async running() {
      if (cleaned) return false;
      try {
        await pgCommand('pg_ctl', ['-D', dataDir, 'status']);
        return true;
      } catch {
        return false;
      }
    },
    async start() {
      if (await cluster.running()) return;
      try {
        await pgCommand('pg_ctl', ['-D', dataDir, '-o', serverOptions, '-l', logFile, '-w', '-t', '30', 'start']);
      } catch (error) {
        const log = await fsp.readFile(logFile, 'utf8').catch(() => '');
        throw new Error(`private PostgreSQL did not start: ${(error as Error).message}\n${log.slice(-2000)}`);
      }
    },
    async stop(mode = 'fast') {
      if (!(await cluster.running())) return;
      await pgCommand('pg_ctl', ['-D', dataDir, '-m', mode, '-w', '-t', '30', 'stop']);
    },
    async restart(downMs = 0) {
      await cluster.stop('fast');
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      await cluster.start();
    },
    async cleanup() {
      if (cleaned) return;
      await cluster.stop('immediate').catch(() => undefined);
      cleaned = true;
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await cluster.start();
  } catch (error) {
    await cluster.cleanup();
    throw error;
  }
  return cluster;
}

/** Folder of `initdb` and `pg_ctl`: `PG_BIN`, else the newest `/usr/lib/postgresql/<version>/bin`. */
function postgresBinDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root)
    ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions.length) throw new Error('PostgreSQL server binaries not found: install postgresql or set PG_BIN to the folder of pg_ctl');
  return path.join(root, versions[0]!, 'bin');
}
