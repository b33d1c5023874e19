/**
 * Fault suite: a worker stopped with SIGTERM while it runs a step. With time enough (a long
 * `SHUTDOWN_GRACE_MS`) it finishes what it runs and then exits; with a short grace period it
 * aborts the provider call and hands the job back to the queue, where another worker runs it
 * without using an attempt. Drained with SIGUSR2 instead, it finishes what it runs whatever the
 * grace period and exits with status 0. Each way the batch completes with one file per chunk.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { type CliProcess, FaultStack, printTable, storyFiles } from '../support/fault-harness.js';

const IMAGE_LATENCY_MS = 3000;
const figures: Record<string, string | number | boolean | undefined>[] = [];

afterAll(() => printTable('SIGTERM or SIGUSR2 during the images step', figures));

describe('a worker stopped (SIGTERM) or drained (SIGUSR2) in the middle of a step', () => {
  let stack: FaultStack;
  beforeAll(async () => {
    stack = await FaultStack.create({ label: 'sigterm' });
    await stack.startApi();
    await stack.signIn();
    stack.fake.setFaultInjector((_request, { route }) => (route === 'images' ? { kind: 'default', delayMs: IMAGE_LATENCY_MS } : undefined));
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** Starts a worker with this grace period, a batch, and signals the worker (SIGTERM) once its image call is in flight. */
  async function stopMidImage(graceMs: number, signal: NodeJS.Signals = 'SIGTERM') {
    for (const worker of stack.liveWorkers()) await stack.kill(worker, 'SIGTERM'); // the one left by the last test
    const stopping = await stack.startWorker({ SHUTDOWN_GRACE_MS: String(graceMs) });
    const batch = await stack.submitBatch(storyFiles(1, 60, graceMs > 5000 ? 0 : 1), { autoMode: { wordPerChunkImage: 30, wordPerChunkAudio: 30 } });
    onTestFailed(async () => console.error(await stack.diagnostics(batch.batchId)));
    const call = await stack.until(async () => stack.latestCaller('images', batch.submittedAt), 60_000, 'an image call in flight', 25);
    expect(call.worker).toBe(stopping);
    const signalledAt = Date.now();
    const exit = await stack.kill(stopping, signal);
    const exitMs = Date.now() - signalledAt;
    const other: CliProcess = await stack.startWorker();
    const end = await stack.waitForBatchEnd(batch.batchId, { timeoutMs: 120_000, since: batch.submittedAt });
    const runs = await stack.sql<{ job_id: string; attempt: number; status: string; error: string | null; started_at: Date }>(
      `SELECT r.job_id, r.attempt, r.status, r.error, r.started_at FROM step_runs r JOIN stories s ON s.id = r.story_id
       WHERE s.batch_id = $1 AND r.step = 'images' ORDER BY r.started_at`,
      [batch.batchId],
    );
    const artifacts = await stack.checkArtifacts(batch.storyIds, batch.heroes);
    return { batch, exit, exitMs, end, runs, artifacts, stopping, other, signalledAt };
  }

  it('finishes its running work within a long grace period, then exits', async () => {
    const result = await stopMidImage(20_000);
    const cut = result.runs.filter((r) => r.started_at.getTime() < result.signalledAt);
    figures.push({
      grace: '20000 ms',
      'exit after ms': result.exitMs,
      exit: String(result.exit),
      'image runs before SIGTERM': cut.length,
      'of them finished': cut.filter((r) => r.status === 'completed').length,
      released: result.runs.filter((r) => r.error?.startsWith('Released')).length,
      batch: result.end.body.status,
    });
    expect(['SIGTERM', 0]).toContain(result.exit);
    // Every image call the worker had started was finished by it, not released or failed.
    expect(cut.length).toBeGreaterThan(0);
    expect(cut.every((r) => r.status === 'completed')).toBe(true);
    expect(result.end.body.status).toBe('completed');
    expect(result.artifacts.problems).toEqual([]);
  });

  it('hands its running jobs back to the queue when the grace period is over; another worker runs them without using an attempt', async () => {
    const result = await stopMidImage(300);
    const released = result.runs.filter((r) => r.error?.startsWith('Released'));
    const rerun = released.map((r) => result.runs.find((n) => n.job_id === r.job_id && n.started_at > r.started_at));
    figures.push({
      grace: '300 ms',
      'exit after ms': result.exitMs,
      exit: String(result.exit),
      released: released.length,
      'run again (attempt)': rerun.map((r) => (r ? `${r.status} (${r.attempt})` : 'never')).join(' '),
      batch: result.end.body.status,
    });
    expect(['SIGTERM', 0]).toContain(result.exit);
    // It did not wait for the 3 s image call: the call was aborted and the job released.
    expect(released.length).toBeGreaterThan(0);
    for (const [i, run] of released.entries()) {
      expect(rerun[i], `job ${run.job_id} ran again`).toBeDefined();
      expect(rerun[i]!.status).toBe('completed');
      expect(rerun[i]!.attempt).toBe(run.attempt);
    }
    expect(result.end.body.status).toBe('completed');
    expect(result.artifacts.problems).toEqual([]);
  });

  it('drained with SIGUSR2, finishes its running work however long the grace period is short, then exits with status 0', async () => {
    const result = await stopMidImage(300, 'SIGUSR2');
    const cut = result.runs.filter((r) => r.started_at.getTime() < result.signalledAt);
    figures.push({
      grace: '300 ms, SIGUSR2',
      'exit after ms': result.exitMs,
      exit: String(result.exit),
      'image runs before SIGUSR2': cut.length,
      'of them finished': cut.filter((r) => r.status === 'completed').length,
      released: result.runs.filter((r) => r.error?.startsWith('Released')).length,
      batch: result.end.body.status,
    });
    expect(result.exit, result.stopping.output().slice(-3000)).toBe(0);
    expect(result.stopping.output()).toContain('Drained: every running job has finished');
    // A drain is not a shutdown: the 3 s image calls were not cut at the 300 ms grace period.
    expect(cut.length).toBeGreaterThan(0);
    expect(cut.every((r) => r.status === 'completed')).toBe(true);
    expect(result.runs.filter((r) => r.error?.startsWith('Released'))).toEqual([]);
    expect(result.end.body.status).toBe('completed');
    expect(result.artifacts.problems).toEqual([]);
  });
});
