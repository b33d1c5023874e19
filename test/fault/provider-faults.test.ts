/**
 * Fault suite: the providers fail 20 % of calls, a seeded deterministic mix of HTTP 500, HTTP 429
 * with `Retry-After: 1`, a call that never answers (past PROVIDER_TIMEOUT_MS) and a 200 whose body
 * is cut-off JSON. Every story must complete with exactly one file per chunk, and after each 429
 * the same call must not come again before Retry-After has passed.
 *
 * `FAULT_SEED` changes which calls fail (the default seed gives the same faults on every run).
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { FakeReply, FakeRoute } from '../support/fake-openai-server.js';
import { FaultStack, median, printTable, seededRandom, storyFiles } from '../support/fault-harness.js';

/** Share of provider calls that fail. */
const FAULT_RATE = 0.2;
const SEED = process.env.FAULT_SEED ?? 'storyforge-fault-1';
/**
 * The same call (route and body) fails at most this many times in a row: a job has JOB_ATTEMPTS = 4,
 * so a deterministic seed can never make one unlucky call fail for good (with 20 % faults, three in
 * a row is already a 1-in-125 event per call).
 */
const MAX_STREAK = 3;
const RETRY_AFTER_S = 1;
const PROVIDER_TIMEOUT_MS = 1500;

type FaultKind = '500' | '429' | 'timeout' | 'malformed';
const KINDS: FaultKind[] = ['500', '429', 'timeout', 'malformed'];

/** A 200 whose JSON is cut off in the middle (a proxy that dropped the connection, say). */
const CUT_OFF_JSON = '{"id":"chatcmpl-cut","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"{\\"title';

function reply(kind: FaultKind, route: FakeRoute): FakeReply {
  switch (kind) {
    case '500':
      return { kind: 'error', status: 500, message: 'The server had an error while processing your request.' };
    case '429':
      return { kind: 'error', status: 429, message: 'Rate limit reached for requests', headers: { 'retry-after': String(RETRY_AFTER_S) } };
    case 'timeout':
      return { kind: 'hang' };
    case 'malformed':
      // The speech route answers audio bytes: there, the broken answer is cut-off JSON sent as 200 JSON.
      return { kind: 'raw', status: 200, headers: { 'content-type': 'application/json' }, body: route === 'speech' ? '{"error":{"message":"upstream' : CUT_OFF_JSON };
  }
}

describe('providers failing 20 % of calls (500, 429 Retry-After, timeouts, malformed JSON)', () => {
  let stack: FaultStack;
  const injected: { requestId: number; route: FakeRoute; kind: FaultKind; key: string; at: number }[] = [];

  beforeAll(async () => {
    stack = await FaultStack.create({
      label: 'provider-faults',
      fake: { latencyMs: { chat: 200, images: 150, speech: 100 } },
      env: { PROVIDER_TIMEOUT_MS: String(PROVIDER_TIMEOUT_MS), JOB_ATTEMPTS: '4', JOB_BACKOFF_MS: '200' },
    });
    await Promise.all([stack.startApi(), stack.startWorker(), stack.startWorker()]);
    await stack.signIn();

    // Deterministic: whether the n-th call of the same work (route + body) fails, and how, depends
    // only on the seed, the work and n — not on the order in which calls arrive.
    const calls = new Map<string, number>();
    const streaks = new Map<string, number>();
    stack.fake.setFaultInjector((request, { route }) => {
      if (route === 'models') return undefined;
      const key = `${route}\n${request.rawBody}`;
      const n = calls.get(key) ?? 0;
      calls.set(key, n + 1);
      const random = seededRandom(`${SEED}|${key}|${n}`);
      const streak = streaks.get(key) ?? 0;
      if (random() >= FAULT_RATE || streak >= MAX_STREAK) {
        streaks.set(key, 0);
        return undefined;
      }
      streaks.set(key, streak + 1);
      const kind = KINDS[Math.floor(random() * KINDS.length)]!;
      injected.push({ requestId: request.id, route, kind, key, at: request.receivedAt });
      return reply(kind, route);
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('completes every story, one file per chunk, and waits at least Retry-After after each 429', async () => {
    const seen: { batchId?: string } = {};
    onTestFailed(async () => console.error(await stack.diagnostics(seen.batchId)));
    const files = storyFiles(6, 100, 2);
    const batch = await stack.submitBatch(files, { autoMode: { wordPerChunkImage: 30, wordPerChunkAudio: 20 } });
    seen.batchId = batch.batchId;
    const end = await stack.waitForBatchEnd(batch.batchId, { timeoutMs: 150_000, since: batch.submittedAt });
    const artifacts = await stack.checkArtifacts(batch.storyIds, batch.heroes);

    // After each 429, the next call of the same work (same route, same body).
    const requests = stack.fake.requests;
    const waits = injected
      .filter((fault) => fault.kind === '429')
      .map((fault) => {
        const next = requests.find((r) => r.id > fault.requestId && `${r.route}\n${r.rawBody}` === fault.key);
        return { route: fault.route, requestId: fault.requestId, waitMs: next ? next.receivedAt - fault.at : undefined };
      });
    const tooSoon = waits.filter((w) => w.waitMs !== undefined && w.waitMs < RETRY_AFTER_S * 1000);
    const neverAgain = waits.filter((w) => w.waitMs === undefined);

    const [runs] = await stack.sql<{ runs: string; failed: string; max_attempt: number }>(
      `SELECT count(*) AS runs, count(*) FILTER (WHERE r.status = 'failed') AS failed, max(r.attempt) AS max_attempt
       FROM step_runs r JOIN stories s ON s.id = r.story_id WHERE s.batch_id = $1`,
      [batch.batchId],
    );
    const byRoute = (['chat', 'images', 'speech'] as FakeRoute[]).map((route) => {
      const faults = injected.filter((f) => f.route === route);
      const calls = requests.filter((r) => r.route === route).length;
      return {
        route,
        calls,
        faults: faults.length,
        'fault %': calls ? ((100 * faults.length) / calls).toFixed(1) : '-',
        ...Object.fromEntries(KINDS.map((k) => [k === 'timeout' || k === 'malformed' ? k : `HTTP ${k}`, faults.filter((f) => f.kind === k).length])),
      };
    });
    printTable(`Provider faults (seed ${SEED}, ${FAULT_RATE * 100} % of calls, timeout ${PROVIDER_TIMEOUT_MS} ms)`, byRoute);
    const gaps = waits.flatMap((w) => (w.waitMs === undefined ? [] : [w.waitMs]));
    printTable('Provider faults: outcome', [
      {
        stories: batch.storyIds.length,
        batch: end.body.status,
        'batch ms': end.elapsedMs,
        completed: artifacts.stories.filter((s) => s.status === 'completed').length,
        'step runs': runs!.runs,
        'failed runs': runs!.failed,
        'max attempt': runs!.max_attempt,
        '429s': waits.length,
        'wait after 429 ms (min/median)': gaps.length ? `${Math.min(...gaps)}/${Math.round(median(gaps))}` : '-',
        'Retry-After ms': RETRY_AFTER_S * 1000,
        'too soon': tooSoon.length,
        'files = chunk rows': artifacts.problems.length === 0 ? 'yes' : 'NO',
      },
    ]);
    if (artifacts.problems.length) console.error(`artifact problems:\n  ${artifacts.problems.join('\n  ')}`);
    if (tooSoon.length) console.error(`calls repeated before Retry-After: ${JSON.stringify(tooSoon)}`);

    expect(injected.length).toBeGreaterThan(0);
    expect(new Set(injected.map((f) => f.kind))).toEqual(new Set(KINDS));
    expect(end.body.status).toBe('completed');
    expect(artifacts.problems).toEqual([]);
    expect(waits.length).toBeGreaterThan(0);
    expect(neverAgain).toEqual([]);
    expect(tooSoon).toEqual([]);
  });
});
