import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import 'reflect-metadata';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Writable } from 'node:stream';
import { io, type Socket } from 'socket.io-client';
import { type AppConfig, loadConfig } from '../../src/config/config.js';
import { createHttpApp } from '../../src/app/http-app.js';
import { createRootLogger, secretsOf } from '../../src/logging/logger.js';
import { QueueRepository } from '../../src/repositories/queue.repository.js';
import { removeRedisKeys } from './redis.js';
import { releaseAll } from './release.js';
import { createTestDatabase } from './test-app.js';

export { removeRedisKeys };

/** An answer of the API: status, headers, and the body parsed as JSON when it is JSON. */
export interface ApiAnswer<T = any> { // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read any body
  status: number;
  headers: Headers;
  body: T;
  bytes: Buffer;
}

export interface RequestOptions {
  token?: string;
  json?: unknown;
  form?: FormData;
  headers?: Record<string, string>;
}

/** A small HTTP client for the API over real sockets (fetch). */
export class ApiClient {
  constructor(readonly baseUrl: string) {}

  async request<T = any>(method: string, route: string, options: RequestOptions = {}): Promise<ApiAnswer<T>> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | FormData | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form) {
      body = options.form;
    }
    const response = await fetch(`${this.baseUrl}${route}`, { method, headers, body });
    const bytes = Buffer.from(await response.arrayBuffer());
    const type = response.headers.get('content-type') ?? '';
    const parsed = type.includes('application/json') && bytes.length ? JSON.parse(bytes.toString('utf8')) : bytes.toString('utf8');
    return { status: response.status, headers: response.headers, body: parsed as T, bytes };
  }

  get = <T = any>(route: string, options?: RequestOptions) => this.request<T>('GET', route, options); // eslint-disable-line @typescript-eslint/no-explicit-any
  post = <T = any>(route: string, options?: RequestOptions) => this.request<T>('POST', route, options); // eslint-disable-line @typescript-eslint/no-explicit-any
  delete = <T = any>(route: string, options?: RequestOptions) => this.request<T>('DELETE', route, options); // eslint-disable-line @typescript-eslint/no-explicit-any

  /** Registers a user; returns its access token, refresh token and id. */
  async register(email: string, password = 'correct horse battery'): Promise<{ token: string; refreshToken: string; userId: string }> {
    const answer = await this.post('/auth/register', { json: { email, password } });
    if (answer.status !== 201) throw new Error(`register ${email}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return { token: answer.body.accessToken, refreshToken: answer.body.refreshToken, userId: answer.body.user.id };
  }

  /** Uploads files (name → bytes) to batch-upload as one user. */
  uploadFiles(token: string, files: { name: string; bytes: Uint8Array }[], field = 'files', route = '/file-upload/batch-upload'): Promise<ApiAnswer> {
    const form = new FormData();
    for (const file of files) form.append(field, new Blob([file.bytes]), file.name);
    return this.post(route, { token, form });
  }
}

export interface HttpTestApp {
  app: NestExpressApplication;
  config: AppConfig;
  baseUrl: string;
  api: ApiClient;
  close(): Promise<void>;
}

/**
 * Starts the HTTP API as `storyforge serve` builds it, listening on a free port, with workers
 * (unless `workers: false`) on real Redis (a private prefix) and a fresh PostgreSQL database.
 */
export async function startHttpTestApp(
  options: {
    env?: Record<string, string>;
    workers?: boolean;
    /** Changes the fresh database's URL the app is given (e.g. to go through a proxy). */
    databaseUrl?: (url: string) => string;
    /**
     * Every log line of the app (JSON, at LOG_LEVEL) is pushed here, NestJS's own lines too, as
     * `storyforge serve` writes them to stdout. Without it NestJS logs errors only.
     */
    logLines?: string[];
  } = {},
): Promise<HttpTestApp> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-http-'));
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let app: NestExpressApplication | undefined;
  let config: AppConfig | undefined;
  // Also when starting fails half-way: what was made is released, not left to the next tests.
  const release = () =>
    releaseAll([
      async () => app && (await app.get(QueueRepository).obliterate().catch(() => undefined)),
      () => app?.close(),
      () => config && removeRedisKeys(config.redisUrl, config.queuePrefix),
      () => database?.drop(),
      () => fs.rm(dataDir, { recursive: true, force: true }),
    ]);
  try {
    database = await createTestDatabase();
    config = loadConfig({
      DATA_DIR: dataDir,
      DATABASE_URL: options.databaseUrl ? options.databaseUrl(database.url) : database.url,
      QUEUE_PREFIX: `sftest-${randomBytes(4).toString('hex')}`,
      JOB_BACKOFF_MS: '200',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_AUTH: '1000',
      ...options.env,
    });
    const lines = options.logLines;
    const rootLogger = lines
      ? createRootLogger({
          level: config.logLevel,
          secrets: secretsOf(config),
          destination: new Writable({
            write(chunk: Buffer, _encoding, done) {
              lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
              done();
            },
          }),
        })
      : undefined;
    app = await createHttpApp(config, { workers: options.workers ?? true, ...(rootLogger ? { rootLogger } : { logger: ['error'] }) });
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await release().catch(() => undefined);
    throw error;
  }
  const { port } = app.getHttpServer().address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return { app, config, baseUrl, api: new ApiClient(baseUrl), close: release };
}

/** One event a socket received, with its name. */
export interface ReceivedEvent {
  event: string;
  data: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- event payloads
}

/** A connected Socket.IO client that records every event it receives. */
export interface RecordingSocket {
  socket: Socket;
  events: ReceivedEvent[];
  /** Events of one room, in arrival order. */
  inRoom(room: string): ReceivedEvent[];
  /** Emits a message and resolves with the server's ack. */
  call<T = any>(event: string, body: unknown): Promise<T>; // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): void;
}

/**
 * Connects a Socket.IO client with `auth.token`; resolves once connected.
 * @throws the `connect_error` (message and `data`) when the handshake is refused.
 */
export function connectSocket(baseUrl: string, token: string | undefined, options: { headers?: Record<string, string> } = {}): Promise<RecordingSocket> {
  const socket = io(baseUrl, {
    transports: ['websocket'],
    auth: token ? { token } : {},
    extraHeaders: options.headers,
    reconnection: false,
    forceNew: true,
    timeout: 10_000,
  });
  const events: ReceivedEvent[] = [];
  socket.onAny((event: string, data: unknown) => events.push({ event, data }));
  return new Promise((resolve, reject) => {
    socket.once('connect', () =>
      resolve({
        socket,
        events,
        inRoom: (room) => events.filter((e) => e.data?.room === room),
        call: (event, body) => socket.timeout(10_000).emitWithAck(event, body),
        close: () => socket.disconnect(),
      }),
    );
    socket.once('connect_error', (error) => {
      socket.disconnect();
      reject(error);
    });
  });
}
