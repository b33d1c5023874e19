import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { redisOptionsFromUrl } from './queue.repository.js';
import type { Acquired, ProviderLimitStore } from '../providers/ports.js';

/**
 * Takes a call slot for one provider, atomically, for every worker process on every host:
 * a concurrency lease (a sorted set of lease ids scored by expiry, so a lease of a killed worker
 * runs out by itself), then the first API key, in turn, that is not resting and has room in its
 * sliding one-minute window (a sorted set of call times per key).
 *
 * KEYS[1] leases; ARGV: now ms, lease ms, max concurrent (0 = none), rpm (0 = none), lease id,
 * key prefix, then one id per API key.
 * Returns {key index (0-based) or -1, 'ok' | 'busy' | 'wait', ms to wait}.
 */
const ACQUIRE_SCRIPT = `
local now = tonumber(ARGV[1])
local leaseMs = tonumber(ARGV[2])
local maxc = tonumber(ARGV[3])
local rpm = tonumber(ARGV[4])
local id = ARGV[5]
local prefix = ARGV[6]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if maxc > 0 and redis.call('ZCARD', KEYS[1]) >= maxc then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {-1, 'busy', tonumber(first[2]) - now}
end
local n = #ARGV - 6
local start = redis.call('INCR', prefix .. ':turn')
redis.call('PEXPIRE', prefix .. ':turn', 86400000)
local minWait = -1
for j = 0, n - 1 do
  local i = ((start + j) % n) + 7
  local keyId = ARGV[i]
  local restLeft = redis.call('PTTL', prefix .. ':rest:' .. keyId)
  if restLeft > 0 then
    if minWait < 0 or restLeft < minWait then minWait = restLeft end
  else
    local free = true
    if rpm > 0 then
      local rk = prefix .. ':rpm:' .. keyId
      redis.call('ZREMRANGEBYSCORE', rk, '-inf', now - 60000)
      if redis.call('ZCARD', rk) >= rpm then
        free = false
        local oldest = redis.call('ZRANGE', rk, 0, 0, 'WITHSCORES')
        local w = tonumber(oldest[2]) + 60000 - now
        if minWait < 0 or w < minWait then minWait = w end
      else
        redis.call('ZADD', rk, now, id)
        redis.call('PEXPIRE', rk, 61000)
      end
    end
    if free then
      if maxc > 0 then
        redis.call('ZADD', KEYS[1], now + leaseMs, id)
        redis.call('PEXPIRE', KEYS[1], leaseMs + 1000)
      end
      return {i - 7, 'ok', 0}
    end
  end
end
return {-1, 'wait', minWait}
`;

/**
 * Provider limits shared through Redis by every worker process and host (keys under
 * `<QUEUE_PREFIX>:limits:<scope>`, scope = `capability.provider`): concurrency leases, requests per
 * rolling minute per API key, resting keys, and since when a provider keeps failing (for fallback).
 * API keys are named by an id (their position), never stored.
 */
@Injectable()
export class ProviderLimitsRepository implements OnModuleDestroy, ProviderLimitStore {
  private readonly logger = new Logger('ProviderLimits');
  private client?: Redis;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  private get redis(): Redis {
    if (!this.client) {
      this.client = new Redis({ ...redisOptionsFromUrl(this.config.redisUrl), maxRetriesPerRequest: 2 });
      this.client.on('error', (error) => this.logger.warn(`Redis: ${error.message}`));
    }
    return this.client;
  }

  private prefix(scope: string): string {
    return `${this.config.queuePrefix}:limits:${scope}`;
  }

  /**
   * Tries once to take a slot. @param keyCount API keys of the provider (1 for keyless ones).
   * @param leaseMs how long the lease lasts when never released (the call's deadline plus a margin), ms.
   */
  async acquire(scope: string, keyCount: number, limit: { maxConcurrent?: number; rpm?: number }, leaseMs: number): Promise<Acquired> {
    const leaseId = randomUUID();
    const prefix = this.prefix(scope);
    const keyIds = Array.from({ length: Math.max(1, keyCount) }, (_, i) => `k${i}`);
    const [index, reason, waitMs] = (await this.redis.eval(
      ACQUIRE_SCRIPT,
      1,
      `${prefix}:leases`,
      Date.now(),
      Math.max(1000, Math.round(leaseMs)),
      limit.maxConcurrent ?? 0,
      limit.rpm ?? 0,
      leaseId,
      prefix,
      ...keyIds,
    )) as [number, string, number];
    if (reason === 'ok') return { ok: true, keyIndex: index, leaseId };
    return { ok: false, reason: reason as 'busy' | 'wait', waitMs: Math.max(0, Math.round(waitMs)) };
  }

  /** Gives a concurrency lease back (a no-op when it already ran out). */
  async release(scope: string, leaseId: string): Promise<void> {
    await this.redis.zrem(`${this.prefix(scope)}:leases`, leaseId);
  }

  /** Rests key number `keyIndex` of the provider for `ms`. */
  async rest(scope: string, keyIndex: number, ms: number): Promise<void> {
    await this.redis.set(`${this.prefix(scope)}:rest:k${keyIndex}`, '1', 'PX', Math.max(1, Math.round(ms)));
  }

  /**
   * Notes that the provider failed with a retryable error, and returns since when it has kept
   * failing (ms since the epoch; the first failure since its last success). Kept 1 day at most.
   */
  async markDown(scope: string): Promise<number> {
    const key = `${this.prefix(scope)}:down-since`;
    await this.redis.set(key, String(Date.now()), 'PX', 86_400_000, 'NX');
    return Number((await this.redis.get(key)) ?? Date.now());
  }

  /** The provider answered: it is no longer down. */
  async clearDown(scope: string): Promise<void> {
    await this.redis.del(`${this.prefix(scope)}:down-since`);
  }

  async onModuleDestroy(): Promise<void> {
    if (this.client) await this.client.quit().catch(() => this.client?.disconnect());
  }
}
