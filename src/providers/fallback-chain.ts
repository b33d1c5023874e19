import type { ProviderLimitStore } from './ports.js';
import { countFallback } from './provider-calls.js';
import { ProviderError } from './provider-error.js';

/** One provider of a chain: its name, its limits scope, and how to call it. */
export interface ChainMember<Req, Res> {
  name: string;
  scope: string;
  run(request: Req, isFirst: boolean): Promise<Res>;
}

/**
 * Tries the providers of a chain in order (`SPEECH_FALLBACK=espeak-ng` after `edge` …). The next
 * one is used when a provider fails for good (a permanent ProviderError: refused, unknown model)
 * or has kept failing with retryable errors for at least `fallbackAfterMs` (counted across
 * processes from its first failure since its last success; 0 = at once). Otherwise the retryable
 * error is thrown so the job is tried again later. A cancel or any error that is not a
 * ProviderError is thrown at once. The result says which provider made it.
 */
export async function runChain<Req, Res>(
  members: readonly ChainMember<Req, Res>[],
  request: Req,
  options: { limits: ProviderLimitStore; fallbackAfterMs: number; signal?: AbortSignal },
): Promise<{ result: Res; provider: string; fallback: boolean }> {
  for (const [i, member] of members.entries()) {
    const last = i === members.length - 1;
    try {
      const result = await member.run(request, i === 0);
      if (members.length > 1) await options.limits.clearDown(member.scope).catch(() => undefined);
      if (i > 0) countFallback(members[0]!.scope, member.scope);
      return { result, provider: member.name, fallback: i > 0 };
    } catch (error) {
      if (last || options.signal?.aborted || !(error instanceof ProviderError)) throw error;
      if (error.kind === 'transient') {
        const since = await options.limits.markDown(member.scope);
        if (Date.now() - since < options.fallbackAfterMs) throw error;
      }
    }
  }
  throw new Error('empty provider chain');
}
