/**
 * Fault suite: Redis loses every key (FLUSHALL on a private server) while a long video render runs.
 * The render belongs to a live worker whose heartbeat is fresh, so however many reconcile passes
 * run meanwhile, none queues the render again. Then that worker is SIGKILLed: its heartbeat stops,
 * the next pass queues the render again, a new worker renders it once, and the story finishes.
 *
 * The first worker renders slowly through its own configuration (1080p, x264 `veryslow`, 50 fps:
 * minutes for a narration of about a minute on two cores); the heartbeat is made short
 * (WORKER_HEARTBEAT_MS 300, WORKER_HEARTBEAT_TIMEOUT_MS 3000), so the render outlives the timeout
 * ten times over while it is watched. The replacement renders small and fast, so the test stays
 * within a couple of minutes.
 */
import { readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { type CliProcess, FaultStack, printFigures, scratchRootOf, storyFiles } from '../support/fault-harness.js';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis.js';

const HEARTBEAT_TIMEOUT_MS = 3_000;
/** How long the render is watched after the flush: ten heartbeat timeouts. */
const WATCH_MS = 10 * HEARTBEAT_TIMEOUT_MS;
const SLOW_RENDER = { VIDEO_PRESET: 'veryslow', VIDEO_SCALE: '1', VIDEO_FPS: '50' };
const FAST_RENDER = { VIDEO_PRESET: 'ultrafast', VIDEO_SCALE: '0.2', VIDEO_FPS: '10' };

/** One logged reconcile pass: when it ended (ms since the epoch) and how many jobs it rebuilt. */
interface Pass {
  process: string;
  time: number;
  rebuilt: number;
}

/** Every `Reconcile pass:` line the stack's processes logged (pino JSON). */
function reconcilePasses(processes: CliProcess[]): Pass[] {
  const passes: Pass[] = [];
  for (const proc of processes) {
    for (const line of proc.output().split('\n')) {
      if (!line.includes('Reconcile pass:')) continue;
      const entry = JSON.parse(line) as { time: number; msg: string };
      passes.push({ process: proc.name, time: entry.time, rebuilt: Number(/(\d+) job\(s\) rebuilt/.exec(entry.msg)?.[1] ?? NaN) });
    }
  }
  return passes.sort((a, b) => a.time - b.time);
}

/** The render folders (`render-*`) in a worker process's scratch space. */
function renderFolders(pid: number): string[] {
  try {
    return readdirSync(scratchRootOf(pid)).filter((name) => name.startsWith('render-'));
  } catch {
    return [];
  }
}

describe('Redis flushed during a long video render', () => {
  let redis: PrivateRedis;
  let stack: FaultStack;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    stack = await FaultStack.create({
      label: 'long-render',
      redisUrl: redis.url,
      env: { WORKER_HEARTBEAT_MS: '300', WORKER_HEARTBEAT_TIMEOUT_MS: String(HEARTBEAT_TIMEOUT_MS), RECONCILE_INTERVAL_MS: '1500' },
    });
    await stack.startApi();
    await stack.signIn();
  });
  afterAll(async () => {
    await stack?.close();
    await redis?.cleanup();
  });

  it('queues no second render while its worker lives, and renders once more after that worker is killed', async () => {
    const seen: { batchId?: string } = {};
    onTestFailed(async () => console.error(await stack.diagnostics(seen.batchId)));
    const slow = await stack.startWorker(SLOW_RENDER);
    // About 800 characters of narration: close to a minute of speech from the fake synthesizer.
    const batch = await stack.submitBatch(storyFiles(1, 150, 2), { autoMode: { renderVideo: true, wordPerChunkImage: 50, wordPerChunkAudio: 40 } });
    seen.batchId = batch.batchId;
    const storyId = batch.storyIds[0]!;
    const videoRuns = () =>
      stack.sql<{ worker_id: string; status: string; fresh: boolean; pid: number }>(
        `SELECT r.worker_id, r.status, r.heartbeat_at > now() - interval '${HEARTBEAT_TIMEOUT_MS / 1000} seconds' AS fresh, w.pid
         FROM step_runs r JOIN workers w ON w.id = r.worker_id WHERE r.story_id = $1 AND r.step = 'video' ORDER BY r.started_at`,
        [storyId],
      );

    // The render is under way on the slow worker: its ffmpeg writes in its render folder.
    await stack.waitForRows(`SELECT id FROM stories WHERE id = $1 AND video_step = 'running'`, [storyId], { timeoutMs: 120_000, what: 'video running' });
    await stack.until(
      async () => (stack.workersRunningMedia().some((m) => m.worker === slow && m.args.includes('/render-')) ? true : undefined),
      60_000,
      'the slow worker running ffmpeg for the render',
      100,
    );
    const jobsBefore = await stack.liveJobs();
    const flushedAt = Date.now();
    await redis.flushAll();

    // Reconcile passes run for ten heartbeat timeouts; the render stays the only one.
    await stack.until(async () => (reconcilePasses(stack.processes).some((p) => p.time > flushedAt + WATCH_MS) ? true : undefined), WATCH_MS + 30_000, 'passes during the watch');
    const passes = reconcilePasses(stack.processes).filter((p) => p.time > flushedAt);
    const jobsAfter = await stack.liveJobs();
    const runsWhileAlive = await videoRuns();
    const foldersWhileAlive = renderFolders(slow.pid);
    const [whileAlive] = await stack.sql<{ video_step: string }>(`SELECT video_step FROM stories WHERE id = $1`, [storyId]);
    expect(slow.alive(), 'the slow worker is still rendering').toBe(true);
    expect(jobsBefore.map((j) => `${j.queue}/${j.state}`)).toEqual(['video-render/active']);
    expect(passes.length).toBeGreaterThanOrEqual(10);
    expect(passes.map((p) => p.rebuilt)).toEqual(passes.map(() => 0));
    expect(jobsAfter).toEqual([]);
    expect(runsWhileAlive.map((r) => [r.pid, r.status, r.fresh])).toEqual([[slow.pid, 'running', true]]);
    expect(foldersWhileAlive).toHaveLength(1);
    expect(whileAlive!.video_step).toBe('running');

    // The worker dies mid-render: a new one renders the video once, and the story finishes.
    const killedAt = Date.now();
    const [{ ms: renderedForMs }] = await stack.sql<{ ms: number }>(
      `SELECT (extract(epoch FROM now() - started_at) * 1000)::int AS ms FROM step_runs WHERE story_id = $1 AND step = 'video'`,
      [storyId],
    );
    await stack.kill(slow, 'SIGKILL');
    const fast = await stack.startWorker(FAST_RENDER);
    const end = await stack.waitForBatchEnd(batch.batchId, { timeoutMs: 120_000, since: batch.submittedAt });
    const runs = await videoRuns();
    const rebuilt = reconcilePasses(stack.processes).filter((p) => p.time > killedAt && p.rebuilt > 0);
    const [story] = await stack.sql<{ status: string; video_step: string; video_key: string; width: number }>(
      `SELECT status, video_step, video_key, (metadata -> 'video' ->> 'width')::int AS width FROM stories WHERE id = $1`,
      [storyId],
    );
    const video = await fs.stat(stack.pathOf(story!.video_key));
    printFigures('Long render, Redis flushed, its worker killed', {
      'reconcile passes while it rendered': passes.length,
      'watched after the flush, ms': WATCH_MS,
      'first render ran before the kill, ms': renderedForMs,
      'render runs (worker/status)': runs.map((r) => `${r.pid === slow.pid ? 'slow' : r.pid === fast.pid ? 'replacement' : r.pid}/${r.status}`).join(', '),
      'story finished after the kill, ms': Date.now() - killedAt,
      'programs left running by the killed worker (killed by the test)': slow.orphansKilled,
      'video bytes': video.size,
    });
    expect(end.body.status).toBe('completed');
    expect(story).toMatchObject({ status: 'completed', video_step: 'completed', width: 384 });
    expect(video.size).toBeGreaterThan(0);
    // Two runs in all: the killed one (never finished), and one more on the replacement.
    expect(runs.map((r) => [r.pid, r.status])).toEqual([
      [slow.pid, 'running'],
      [fast.pid, 'completed'],
    ]);
    expect(rebuilt.reduce((sum, p) => sum + p.rebuilt, 0)).toBe(1);
    expect(stack.crashed()).toEqual([]);
  });
});
