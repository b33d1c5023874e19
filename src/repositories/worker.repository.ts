import { Inject, Injectable } from '@nestjs/common';
import { and, asc, eq, gt, inArray, isNull, lt, ne, sql } from 'drizzle-orm';
import { DATABASE, type DatabaseConnection } from '../db/database.js';
import { type StepName, stepRuns, workers } from '../db/schema.js';

/** Which workers a drain request is for: one by id, those of one host, or every live one. */
export type DrainTarget = { workerId: string } | { host: string } | { all: true };

/** A live worker and the step runs it is running now. */
export interface LiveWorker {
  id: string;
  host: string;
  pid: number;
  state: 'running' | 'draining' | 'stopped';
  startedAt: Date;
  heartbeatAt: Date;
  running: { storyId: string; step: StepName; chunkIndex: number | null; attempt: number; startedAt: Date }[];
}

/**
 * The `workers` table: worker processes, their heartbeats and drain requests; and the heartbeats
 * of the step runs they run (step_runs.heartbeat_at).
 */
@Injectable()
export class WorkerRepository {
  constructor(@Inject(DATABASE) private readonly database: DatabaseConnection) {}

  /**
   * Records a new worker process and deletes the records of workers whose heartbeat stopped more
   * than `retentionMs` ago (stopped cleanly or died), so that the table keeps recent workers only;
   * their step runs stay, with no worker (step_runs.worker_id is set to null).
   * @returns the new worker's id and how many old records were deleted.
   */
  async register(worker: { host: string; pid: number }, retentionMs: number): Promise<{ id: string; pruned: number }> {
    return this.database.db.transaction(async (tx) => {
      const gone = await tx.delete(workers).where(lt(workers.heartbeatAt, this.since(retentionMs))).returning({ id: workers.id });
      const [row] = await tx.insert(workers).values(worker).returning({ id: workers.id });
      return { id: row!.id, pruned: gone.length };
    });
  }

  /**
   * Renews the heartbeat of a worker and of the step runs it runs (one statement each).
   * @returns whether a drain of this worker has been asked for.
   */
  async beat(workerId: string, runIds: string[]): Promise<{ drainRequested: boolean }> {
    const [row] = await this.database.db
      .update(workers)
      .set({ heartbeatAt: sql`now()` })
      .where(eq(workers.id, workerId))
      .returning({ drainRequestedAt: workers.drainRequestedAt });
    if (runIds.length) {
      await this.database.db
        .update(stepRuns)
        .set({ heartbeatAt: sql`now()` })
        .where(and(inArray(stepRuns.id, runIds), eq(stepRuns.status, 'running')));
    }
    return { drainRequested: !!row?.drainRequestedAt };
  }

  async setState(workerId: string, state: 'running' | 'draining' | 'stopped'): Promise<void> {
    await this.database.db
      .update(workers)
      .set({ state, ...(state === 'stopped' ? { stoppedAt: sql`now()` } : {}) })
      .where(eq(workers.id, workerId));
  }

  /**
   * Asks live workers to drain: take no new job, finish what they run, exit. Each sees the request
   * at its next heartbeat. @returns the ids of the workers asked.
   */
  async requestDrain(target: DrainTarget, timeoutMs: number): Promise<string[]> {
    const alive = and(ne(workers.state, 'stopped'), isNull(workers.drainRequestedAt), gt(workers.heartbeatAt, this.since(timeoutMs)));
    const which = 'workerId' in target ? eq(workers.id, target.workerId) : 'host' in target ? eq(workers.host, target.host) : undefined;
    const rows = await this.database.db
      .update(workers)
      .set({ drainRequestedAt: sql`now()` })
      .where(which ? and(alive, which) : alive)
      .returning({ id: workers.id });
    return rows.map((row) => row.id);
  }

  /** Workers whose heartbeat is younger than `timeoutMs` (by the database's clock), oldest first, with what they run. */
  async listAlive(timeoutMs: number): Promise<LiveWorker[]> {
    const rows = await this.database.db
      .select()
      .from(workers)
      .where(and(ne(workers.state, 'stopped'), gt(workers.heartbeatAt, this.since(timeoutMs))))
      .orderBy(asc(workers.startedAt));
    if (!rows.length) return [];
    const runs = await this.database.db
      .select({
        workerId: stepRuns.workerId,
        storyId: stepRuns.storyId,
        step: stepRuns.step,
        chunkIndex: stepRuns.chunkIndex,
        attempt: stepRuns.attempt,
        startedAt: stepRuns.startedAt,
      })
      .from(stepRuns)
      .where(
        and(
          inArray(
            stepRuns.workerId,
            rows.map((row) => row.id),
          ),
          eq(stepRuns.status, 'running'),
          gt(stepRuns.heartbeatAt, this.since(timeoutMs)),
        ),
      )
      .orderBy(asc(stepRuns.startedAt));
    return rows.map((row) => ({
      id: row.id,
      host: row.host,
      pid: row.pid,
      state: row.state,
      startedAt: row.startedAt,
      heartbeatAt: row.heartbeatAt,
      running: runs.filter((run) => run.workerId === row.id).map(({ workerId: _, ...run }) => run),
    }));
  }

  private since(timeoutMs: number) {
    return sql`now() - make_interval(secs => ${timeoutMs / 1000})`;
  }
}
