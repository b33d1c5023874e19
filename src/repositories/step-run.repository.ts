import { Inject, Injectable } from '@nestjs/common';
import { and, eq, sql } from 'drizzle-orm';
import { DATABASE, type DatabaseConnection } from '../db/database.js';
import { type StepName, stepRuns } from '../db/schema.js';

/** One row per execution of a step or step chunk by a worker, for diagnostics and timings. */
@Injectable()
export class StepRunRepository {
  constructor(@Inject(DATABASE) private readonly database: DatabaseConnection) {}

  /** Records a run as `running`, its heartbeat now; `workerId` is the worker process running it. */
  async start(run: { storyId: string; step: StepName; chunkIndex?: number; attempt: number; jobId?: string; workerId?: string }): Promise<string> {
    const [row] = await this.database.db
      .insert(stepRuns)
      .values({ ...run, status: 'running' })
      .returning({ id: stepRuns.id });
    return row!.id;
  }

  async finish(id: string, startedAt: number, error?: string): Promise<void> {
    await this.database.db
      .update(stepRuns)
      .set({
        status: error ? 'failed' : 'completed',
        error: error ?? null,
        finishedAt: new Date(),
        durationMs: Math.round(performance.now() - startedAt),
      })
      .where(eq(stepRuns.id, id));
  }

  /**
   * The pieces of a story's work still running on a live worker: runs still `running` whose
   * heartbeat is younger than `timeoutMs` by the database's clock (however long ago they started);
   * a run whose heartbeat stopped belongs to a worker that died. Keys are `step` or `step:chunkIndex`.
   */
  async runningAlive(storyId: string, timeoutMs: number): Promise<Set<string>> {
    const rows = await this.database.db
      .select({ step: stepRuns.step, chunkIndex: stepRuns.chunkIndex })
      .from(stepRuns)
      .where(
        and(
          eq(stepRuns.storyId, storyId),
          eq(stepRuns.status, 'running'),
          sql`${stepRuns.heartbeatAt} > now() - make_interval(secs => ${timeoutMs / 1000})`,
        ),
      );
    return new Set(rows.map((row) => runKey(row.step, row.chunkIndex)));
  }
}

/** Key of one piece of a story's work: `story`, `merge`, `images:3` … */
export function runKey(step: StepName, chunkIndex?: number | null): string {
  return chunkIndex === undefined || chunkIndex === null ? step : `${step}:${chunkIndex}`;
}
