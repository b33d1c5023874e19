import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { redisOptionsFromUrl } from './queue.repository.js';

/** One event for the sockets of a room, as carried between processes. */
export interface LiveMessage {
  /** `batch-<id>` or `story-<id>`. */
  room: string;
  /** Socket.IO event name, e.g. `batch-stories-progress`. */
  event: string;
  /** Position of this event in its room: 1, 2, 3 … without gaps. */
  seq: number;
  data: Record<string, unknown>;
}

/** How long an idle room's sequence counter and markers are kept in Redis, ms (7 days). */
const ROOM_STATE_TTL_MS = 7 * 24 * 3600 * 1000;

/** Longest time a room stays locked by one publisher, ms. */
const ROOM_LOCK_MS = 5000;

/** Deletes the lock KEYS[1] only if it still holds this holder's token ARGV[1]. */
const UNLOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Increments the room's counter and publishes the event with it, in one atomic step: Redis runs a
 * script alone, so across every process the order of publication is the order of the numbers.
 * KEYS[1] counter; ARGV[1] channel, ARGV[2] JSON object `{room, event, data}`, ARGV[3] TTL ms.
 */
const PUBLISH_SCRIPT = `
local seq = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PUBLISH', ARGV[1], '{"seq":' .. seq .. ',' .. string.sub(ARGV[2], 2))
return seq
`;

/**
 * Carries room events between processes over Redis: workers publish, every API process subscribes
 * and hands them to its own sockets. Each room has a sequence counter in Redis, shared by all
 * processes. Keys and the channel start with the queue prefix, so installations (and parallel
 * tests) sharing one Redis stay apart. Transport only: what the events mean is decided elsewhere.
 */
@Injectable()
export class LiveEventsRepository implements OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger('LiveEvents');
  private readonly prefix: string;
  private commandClient?: Redis;
  private subscriber?: Redis;
  private readonly listeners = new Set<(message: LiveMessage) => void>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.prefix = `${config.queuePrefix}:live`;
  }

  /** Name of the Redis channel the events travel on. */
  get channel(): string {
    return `${this.prefix}:events`;
  }

  private seqKey(room: string): string {
    return `${this.prefix}:seq:${room}`;
  }

  private get commands(): Redis {
    this.commandClient ??= this.connect('commands');
    return this.commandClient;
  }

  private connect(role: string): Redis {
    const client = new Redis({ ...redisOptionsFromUrl(this.config.redisUrl), maxRetriesPerRequest: 3 });
    client.on('error', (error) => this.logger.warn(`Redis (${role}): ${error.message}`));
    return client;
  }

  /**
   * Publishes an event to a room with the room's next sequence number.
   * @returns the sequence number given to it.
   */
  async publish(room: string, event: string, data: Record<string, unknown>): Promise<number> {
    const body = JSON.stringify({ room, event, data });
    return Number(await this.commands.eval(PUBLISH_SCRIPT, 1, this.seqKey(room), this.channel, body, ROOM_STATE_TTL_MS));
  }

  /** The sequence number of the room's latest event; 0 before the first. */
  async currentSeq(room: string): Promise<number> {
    return Number((await this.commands.get(this.seqKey(room))) ?? 0);
  }

  /** True for the first caller with this marker, in any process (for events sent once, such as a start). */
  async once(marker: string): Promise<boolean> {
    return (await this.commands.set(`${this.prefix}:once:${marker}`, '1', 'PX', ROOM_STATE_TTL_MS, 'NX')) === 'OK';
  }

  /**
   * Runs `work` holding the room's lock (in Redis, so across processes): what `work` reads and
   * publishes is then in the same order for everyone, e.g. a percentage read later is published
   * later. The lock expires after {@link ROOM_LOCK_MS} should its holder die; a caller that cannot
   * get it within that time goes ahead without it.
   */
  async withRoomLock<T>(room: string, work: () => Promise<T>): Promise<T> {
    const key = `${this.prefix}:lock:${room}`;
    const token = randomUUID();
    const deadline = Date.now() + ROOM_LOCK_MS;
    let held = false;
    while (!held && Date.now() < deadline) {
      held = (await this.commands.set(key, token, 'PX', ROOM_LOCK_MS, 'NX')) === 'OK';
      if (!held) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (!held) this.logger.warn(`Room ${room} stayed locked for ${ROOM_LOCK_MS} ms; publishing without the lock`);
    try {
      return await work();
    } finally {
      if (held) await this.commands.eval(UNLOCK_SCRIPT, 1, key, token).catch(() => undefined);
    }
  }

  /**
   * Removes every key of this prefix's live events (room sequence numbers, markers, locks): for a
   * private prefix whose run is over.
   * @returns how many keys were removed.
   */
  async clear(): Promise<number> {
    let removed = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.commands.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) removed += await this.commands.del(...keys);
    } while (cursor !== '0');
    return removed;
  }

  /** Clears a marker set by {@link once}, so that its event may be sent again. */
  async forget(marker: string): Promise<void> {
    await this.commands.del(`${this.prefix}:once:${marker}`);
  }

  /**
   * Receives every room event published by any process, in publication order.
   * Resolves once the subscription is active. @returns the unsubscribe function.
   */
  async subscribe(listener: (message: LiveMessage) => void): Promise<() => void> {
    this.listeners.add(listener);
    if (!this.subscriber) {
      const subscriber = this.connect('subscriber');
      this.subscriber = subscriber;
      subscriber.on('message', (_channel: string, text: string) => {
        let message: LiveMessage;
        try {
          message = JSON.parse(text) as LiveMessage;
        } catch {
          this.logger.warn(`Dropped a malformed event on ${this.channel}`);
          return;
        }
        for (const each of this.listeners) {
          try {
            each(message);
          } catch (error) {
            this.logger.warn(`A live event listener failed: ${(error as Error).message}`);
          }
        }
      });
      await subscriber.subscribe(this.channel);
    }
    return () => this.listeners.delete(listener);
  }

  /** Stops receiving at once; the publishing connection stays for events still being sent. */
  onModuleDestroy(): void {
    this.listeners.clear();
    this.subscriber?.disconnect();
  }

  /** Closes the publishing connection last, after the pipeline has stopped and its events went out. */
  async onApplicationShutdown(): Promise<void> {
    if (this.commandClient) await this.commandClient.quit().catch(() => this.commandClient?.disconnect());
  }
}
