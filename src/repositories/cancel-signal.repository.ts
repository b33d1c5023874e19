import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { redisOptionsFromUrl } from './queue.repository.js';

/**
 * Tells every worker process that a story was cancelled, through Redis pub/sub on the channel
 * `<QUEUE_PREFIX>:cancel` (message: the story id), so that each can abort the provider calls it
 * is running for that story. Pub/sub is fire-and-forget: a process that is down misses the
 * message, which is fine because steps also read the story's status before they work.
 */
@Injectable()
export class CancelSignalRepository implements OnApplicationShutdown {
  private readonly logger = new Logger('Cancel');
  private readonly channel: string;
  private publisher?: Redis;
  private subscriber?: Redis;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.channel = `${config.queuePrefix}:cancel`;
  }

  /** Announces that a story was cancelled. */
  async publish(storyId: string): Promise<void> {
    this.publisher ??= this.connect();
    await this.publisher.publish(this.channel, storyId);
  }

  /** Calls `onCancel(storyId)` for every cancel announced from now on, by any process. */
  async subscribe(onCancel: (storyId: string) => void): Promise<void> {
    if (this.subscriber) throw new Error('Already subscribed to cancel signals');
    this.subscriber = this.connect();
    this.subscriber.on('message', (channel: string, storyId: string) => {
      if (channel === this.channel) onCancel(storyId);
    });
    await this.subscriber.subscribe(this.channel);
  }

  private connect(): Redis {
    const client = new Redis(redisOptionsFromUrl(this.config.redisUrl));
    client.on('error', (error) => this.logger.warn(`Redis: ${error.message}`));
    return client;
  }

  /** After the workers have closed (onModuleDestroy), so that a cancel during their grace period still arrives. */
  onApplicationShutdown(): void {
    this.publisher?.disconnect();
    this.subscriber?.disconnect();
  }
}
