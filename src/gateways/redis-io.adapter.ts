import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import type { Server } from 'socket.io';
import type { AppConfig } from '../config/config.js';
import { redisOptionsFromUrl } from '../repositories/queue.repository.js';

type IoServerOptions = Parameters<IoAdapter['createIOServer']>[1];
type IoServer = ReturnType<IoAdapter['createIOServer']>;

/**
 * Socket.IO on the HTTP server, joined to the other API processes through Socket.IO's Redis
 * adapter (channels `<QUEUE_PREFIX>:socket.io#…`): a broadcast or room operation made in one
 * process (e.g. `server.in(room).disconnectSockets()`) reaches the sockets of all. CORS follows
 * CORS_ORIGINS. Pipeline events take their own ordered channel (see LiveEventsRepository).
 */
export class RedisIoAdapter extends IoAdapter {
  private publisher?: Redis;
  private subscriber?: Redis;

  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
  ) {
    super(app);
  }

  /** Opens the two Redis connections the adapter needs. @throws Error when Redis does not answer. */
  async connect(): Promise<void> {
    this.publisher = new Redis({ ...redisOptionsFromUrl(this.config.redisUrl), maxRetriesPerRequest: 3 });
    this.subscriber = this.publisher.duplicate();
    await Promise.all([this.publisher.ping(), this.subscriber.ping()]);
  }

  // @nestjs/platform-socket.io brings its own copy of socket.io, so its types are taken from the base class.
  override createIOServer(port: number, options?: IoServerOptions): IoServer {
    const origins = this.config.http.corsOrigins;
    const server = super.createIOServer(port, {
      ...options,
      serveClient: false,
      cors: origins.length ? { origin: origins, credentials: true } : undefined,
    } as IoServerOptions);
    if (!this.publisher || !this.subscriber) throw new Error('RedisIoAdapter.connect() must run before the server is created');
    (server as unknown as Server).adapter(createAdapter(this.publisher, this.subscriber, { key: `${this.config.queuePrefix}:socket.io` }));
    return server;
  }

  override async dispose(): Promise<void> {
    await super.dispose();
    this.subscriber?.disconnect();
    await this.publisher?.quit().catch(() => this.publisher?.disconnect());
  }
}
