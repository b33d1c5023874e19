import { DelayedError, UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { PermanentStepError } from '../../../src/pipeline/step-failure.js';
import { CANCEL_REASON, MAX_RATE_LIMIT_WAITS, type StepJob, StepRunnerService } from '../../../src/pipeline/step-runner.service.js';
import { ProviderError } from '../../../src/providers/provider-error.js';
import { SHUTDOWN_REASON } from '../../../src/repositories/queue.repository.js';

/** A step runner on recording fakes: no Redis, no database. */
function setup(options: { generationLater?: number } = {}) {
  const calls = {
    runs: [] as Array<{ id: string; error?: string }>,
    added: [] as Array<{ queue: string; data: unknown }>,
    failed: [] as Array<{ storyId: string; step: string; error: string; generation?: number }>,
    delayedUntil: [] as number[],
    heartbeats: { started: 0, stopped: 0 },
  };
  let reads = 0;
  const runner = new StepRunnerService(
    { add: async (queue: string, data: unknown) => (calls.added.push({ queue, data }), true), cancelRunning: (ids: string[]) => ids.length } as never,
    {
      start: async () => `run-${calls.runs.length + 1}`,
      finish: async (id: string, _started: number, error?: string) => void calls.runs.push({ id, error }),
    } as never,
    // The story's generation: 3 when the run starts; `generationLater` when read again after a failure.
    { get: async () => ({ generation: reads++ === 0 ? 3 : (options.generationLater ?? 3) }) } as never,
    { failStep: async (storyId: string, step: string, error: string, generation?: number) => void calls.failed.push({ storyId, step, error, generation }) } as never,
    {
      workerId: 'w1',
      track: () => {
        calls.heartbeats.started += 1;
        return () => void (calls.heartbeats.stopped += 1);
      },
    } as never,
  );
  const job = (overrides: Partial<StepJob> = {}): StepJob => ({
    id: 'image.s1.2',
    data: { storyId: 's1', chunkIndex: 2 },
    attemptsMade: 0,
    attemptsStarted: 1,
    opts: { attempts: 3 },
    moveToDelayed: async (timestamp: number) => void calls.delayedUntil.push(timestamp),
    ...overrides,
  });
  return { runner, calls, job };
}

const aborted = (reason: string) => {
  const controller = new AbortController();
  controller.abort(reason);
  return controller.signal;
};

describe('StepRunnerService failure policy', () => {
  it('records a finished run and hands a finished step to auto-mode', async () => {
    const { runner, calls, job } = setup();
    await runner.run(job(), 'token', undefined, 'images', async () => true);
    expect(calls.runs).toEqual([{ id: 'run-1', error: undefined }]);
    expect(calls.added).toEqual([{ queue: 'auto-mode', data: { storyId: 's1', after: 'images' } }]);
    expect(calls.heartbeats).toEqual({ started: 1, stopped: 1 });
  });

  it('does not hand the story on while other chunks of the step are left', async () => {
    const { runner, calls, job } = setup();
    await runner.run(job(), 'token', undefined, 'images', async () => false);
    expect(calls.added).toEqual([]);
  });

  it('fails a permanent error at once, without a retry, telling the orchestrator with the chunk', async () => {
    const { runner, calls, job } = setup();
    const run = runner.run(job(), 'token', undefined, 'images', async () => {
      throw new ProviderError('The prompt was refused', 'permanent', 'openai');
    });
    await expect(run).rejects.toBeInstanceOf(UnrecoverableError);
    expect(calls.failed).toEqual([{ storyId: 's1', step: 'images', error: 'The prompt was refused (chunk 3)', generation: 3 }]);
    expect(calls.runs[0]?.error).toBe('The prompt was refused');
  });

  it('lets BullMQ retry a transient error, and fails the step only on the last attempt', async () => {
    const { runner, calls, job } = setup();
    const boom = new Error('connection reset');
    await expect(runner.run(job({ attemptsMade: 0 }), 't', undefined, 'merge', async () => Promise.reject(boom))).rejects.toBe(boom);
    expect(calls.failed).toEqual([]);
    await expect(runner.run(job({ attemptsMade: 2 }), 't', undefined, 'merge', async () => Promise.reject(boom))).rejects.toBe(boom);
    expect(calls.failed.map((f) => f.step)).toEqual(['merge']);
  });

  it('treats a PermanentStepError like a permanent provider error', async () => {
    const { runner, calls, job } = setup();
    await expect(runner.run(job({ data: { storyId: 's1' } }), 't', undefined, 'story', async () => Promise.reject(new PermanentStepError('Nothing to narrate')))).rejects.toBeInstanceOf(UnrecoverableError);
    expect(calls.failed).toEqual([{ storyId: 's1', step: 'story', error: 'Nothing to narrate', generation: 3 }]);
  });

  it('puts a rate-limited job back for the Retry-After time without using an attempt', async () => {
    const { runner, calls, job } = setup();
    const before = Date.now();
    const limited = new ProviderError('429 Too Many Requests', 'transient', 'openai', { retryAfterMs: 30_000 });
    await expect(runner.run(job(), 't', undefined, 'images', async () => Promise.reject(limited))).rejects.toBeInstanceOf(DelayedError);
    expect(calls.delayedUntil[0]).toBeGreaterThanOrEqual(before + 30_000);
    expect(calls.failed).toEqual([]);
  });

  it('counts a rate limit as a failed attempt once the job has waited too often', async () => {
    const { runner, calls, job } = setup();
    const limited = new ProviderError('429 Too Many Requests', 'transient', 'openai', { retryAfterMs: 1000 });
    const tired = job({ attemptsMade: 2, attemptsStarted: 3 + MAX_RATE_LIMIT_WAITS });
    await expect(runner.run(tired, 't', undefined, 'images', async () => Promise.reject(limited))).rejects.toBe(limited);
    expect(calls.delayedUntil).toEqual([]);
    expect(calls.failed).toHaveLength(1);
  });

  it('ends a cancelled run quietly', async () => {
    const { runner, calls, job } = setup();
    await runner.run(job(), 't', aborted(CANCEL_REASON), 'audio', async () => Promise.reject(new Error('aborted')));
    expect(calls.runs[0]?.error).toBe('Cancelled');
    expect(calls.failed).toEqual([]);
    expect(calls.added).toEqual([]);
  });

  it('releases a run cut off by a shutdown to the queue at once', async () => {
    const { runner, calls, job } = setup();
    const before = Date.now();
    await expect(runner.run(job(), 't', aborted(SHUTDOWN_REASON), 'video', async () => Promise.reject(new Error('aborted')))).rejects.toBeInstanceOf(DelayedError);
    expect(calls.delayedUntil[0]).toBeLessThanOrEqual(Date.now());
    expect(calls.delayedUntil[0]).toBeGreaterThanOrEqual(before);
    expect(calls.failed).toEqual([]);
  });

  it('runs the job again instead of failing a story that was retried while it worked', async () => {
    const { runner, calls, job } = setup({ generationLater: 4 });
    const permanent = new ProviderError('refused', 'permanent', 'openai');
    await expect(runner.run(job(), 't', undefined, 'images', async () => Promise.reject(permanent))).rejects.toBeInstanceOf(DelayedError);
    expect(calls.failed).toEqual([]);
    expect(calls.delayedUntil).toHaveLength(1);
  });
});
