import os from 'node:os';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { QueueRepository } from '../repositories/queue.repository.js';
import { WorkerRepository } from '../repositories/worker.repository.js';

/** The signal that tells a worker process to drain: take no new job, finish what it runs, exit. */
export const DRAIN_SIGNAL = 'SIGUSR2';

/**
 * How long the record of a worker that is gone (stopped, or its heartbeat stopped) is kept, ms: a
 * week, so that `step_runs` of the last days still name the worker that ran them, while a fleet
 * that restarts its workers often does not grow the `workers` table without end. Far longer than
 * the longest WORKER_HEARTBEAT_TIMEOUT_MS (1 h), so no live worker's record is ever deleted.
 */
export const WORKER_RECORD_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * This worker process's record and heartbeat. Before it takes jobs it registers in the `workers` table
 * (deleting the records of workers gone for longer than {@link WORKER_RECORD_RETENTION_MS}); every
 * WORKER_HEARTBEAT_MS it renews its own heartbeat and that of every step run it is running (one
 * UPDATE each), so the reconciler can tell work that is alive, however long it runs (a merge, a
 * video render, a slow provider call), from work whose worker died (its heartbeat stops).
 *
 * Drain: on {@link DRAIN_SIGNAL} or when `storyforge worker drain` asked for it (seen at the next
 * heartbeat), the process stops taking jobs, lets the running ones finish (however long), then
 * shuts down as on SIGTERM. Its `/ready` answers 503 meanwhile (its workers are paused).
 */
@Injectable()
export class WorkerHeartbeatService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Worker');
  /** This process's id in the `workers` table; undefined in a process without workers. */
  workerId?: string;
  private readonly runs = new Set<string>();
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;
  private draining?: Promise<void>;
  private end?: () => Promise<void>;
  private readonly onSignal = () => void this.drain(`${DRAIN_SIGNAL} received`);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly workers: WorkerRepository,
    private readonly queues: QueueRepository,
  ) {}

  /** Registers this process as a worker and starts its heartbeat (PipelineWorker calls it before taking jobs). */
  async start(): Promise<void> {
    if (this.workerId) return;
    const { id, pruned } = await this.workers.register({ host: os.hostname(), pid: process.pid }, WORKER_RECORD_RETENTION_MS);
    this.workerId = id;
    if (pruned) this.logger.log(`Deleted the records of ${pruned} worker process(es) gone for more than 7 days`);
    this.timer = setInterval(() => void this.beat(), this.config.jobs.heartbeatMs).unref();
    process.on(DRAIN_SIGNAL, this.onSignal);
  }

  /**
   * Keeps the heartbeat of a step run (a step_runs id) until the returned function is called
   * (when the run ends, however it ends).
   */
  track(runId: string): () => void {
    this.runs.add(runId);
    return () => this.runs.delete(runId);
  }

  /**
   * Sets what ends the process once a drain is over: `storyforge serve` and `storyforge worker`
   * close the application (API included) and exit with status 0, so that a service manager that
   * restarts failed processes only (systemd `Restart=on-failure`, Compose `restart: on-failure`)
   * leaves a drained worker stopped. Without it, a drain ends with SIGTERM.
   */
  whenDrained(end: () => Promise<void>): void {
    this.end = end;
  }

  /**
   * Stops taking jobs, waits for the running ones to finish, then ends the process (see
   * {@link whenDrained}; SIGTERM when nothing was set: the usual graceful shutdown, with nothing
   * left to wait for). Calling it again waits for the same drain.
   */
  drain(reason: string): Promise<void> {
    this.draining ??= (async () => {
      this.logger.log(`Draining (${reason}): taking no new jobs, finishing ${this.runs.size} running step run(s)`);
      if (this.workerId) await this.workers.setState(this.workerId, 'draining').catch(() => undefined);
      await this.queues.pauseWorkers();
      this.logger.log('Drained: every running job has finished; shutting down');
      if (this.end) await this.end();
      else process.kill(process.pid, 'SIGTERM');
    })().catch((error: Error) => this.logger.warn(`Drain failed: ${error.message}`));
    return this.draining;
  }

  /** After the queue workers have closed (onModuleDestroy), before the database closes: the record says `stopped`. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.workerId) return;
    clearInterval(this.timer);
    process.off(DRAIN_SIGNAL, this.onSignal);
    await this.beating;
    await this.workers.setState(this.workerId, 'stopped').catch((error: Error) => this.logger.warn(`Could not record the stop: ${error.message}`));
  }

  private beat(): Promise<void> {
    if (this.beating || !this.workerId) return this.beating ?? Promise.resolve();
    const workerId = this.workerId;
    this.beating = this.workers
      .beat(workerId, [...this.runs])
      .then(({ drainRequested }) => {
        if (drainRequested) void this.drain('asked by `storyforge worker drain`');
      })
      .catch((error: Error) => this.logger.warn(`Heartbeat not recorded: ${error.message}`))
      .finally(() => (this.beating = undefined));
    return this.beating;
  }
}
