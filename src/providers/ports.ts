import type { FfmpegColor } from '../media/ffmpeg-args.js';

/**
 * What providers need from outside systems, as interfaces the providers own. The repositories
 * implement them (ProviderLimitsRepository on Redis, MediaRepository with ffmpeg) and AppModule
 * binds them to the tokens below, so providers never import a repository.
 */

/** The answer of {@link ProviderLimitStore.acquire}. */
export type Acquired =
  | { ok: true; keyIndex: number; leaseId: string }
  /** `busy`: every concurrent slot is taken; `wait`: every key rests or has used its minute. */
  | { ok: false; reason: 'busy' | 'wait'; waitMs: number };

/**
 * Provider limits shared by every worker process and host: concurrency leases, requests per rolling
 * minute per API key, resting keys, and since when a provider keeps failing. Scope =
 * `capability.provider`; times in ms.
 */
export interface ProviderLimitStore {
  /** Takes a concurrency lease and a request of one key's minute, or says how long to wait. */
  acquire(scope: string, keyCount: number, limit: { maxConcurrent?: number; rpm?: number }, leaseMs: number): Promise<Acquired>;
  /** Gives a lease back. */
  release(scope: string, leaseId: string): Promise<void>;
  /** Rests one key for `ms` (after a 429 or Retry-After). */
  rest(scope: string, keyIndex: number, ms: number): Promise<void>;
  /** Notes that the provider failed; returns since when it has been failing (epoch ms). */
  markDown(scope: string): Promise<number>;
  /** Forgets that the provider was failing. */
  clearDown(scope: string): Promise<void>;
}

/** Injection token of the {@link ProviderLimitStore}. */
export const PROVIDER_LIMIT_STORE = Symbol('ProviderLimitStore');

export interface RenderCardOptions {
  outFile: string;
  width: number;
  height: number;
  fontFile: string;
  background: { from: FfmpegColor; to: FfmpegColor };
  textColor: FfmpegColor;
  accentColor: FfmpegColor;
  /** Small line at the top; omitted or empty → not drawn. */
  title?: string;
  /** Large text, already wrapped (one entry per line). */
  bodyLines?: string[];
  /** Corner label such as "3 / 12". */
  label?: string;
  signal?: AbortSignal;
}

/** Draws a card image (the offline image generator's picture) with ffmpeg. */
export interface CardRenderer {
  /** @throws MediaCommandError when ffmpeg fails; Error when the font file cannot be read. */
  renderCard(options: RenderCardOptions): Promise<void>;
}

/** Injection token of the {@link CardRenderer}. */
export const CARD_RENDERER = Symbol('CardRenderer');
