import { Inject, Injectable } from '@nestjs/common';
import { and, eq, sql } from 'drizzle-orm';
import { DATABASE, type DatabaseConnection } from '../db/database.js';
import { type StepName, stepRuns } from '../db/schema.js';

/** One row per execution of a step or step chunk by a worker, for diagnostics and timings. */
@Injectable()
export class StepRunRepository {
  constructor(@Inject(DATABASE) private readonly database: DatabaseConnection) {}

  async start(run: { storyId: string; step: StepName; chunkIndex?: number; attempt: number; jobId?: string }): Promise<string> {
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
   * The pieces of a story's work that may still be running on a live worker: runs still
   * `running` that started less than `windowMs` ago by the database's clock (older ones are taken
   * to belong to a worker that died). Keys are `step` or `step:chunkIndex`.
   */
  async runningWithin(storyId: string, windowMs: number): Promise<Set<string>> {
    const rows = await this.database.db
      .select({ step: stepRuns.step, chunkIndex: stepRuns.chunkIndex })
      .from(stepRuns)
      .where(
        and(
          eq(stepRuns.storyId, storyId),
          eq(stepRuns.status, 'running'),
          sql`${stepRuns.startedAt} > now() - make_interval(secs => ${windowMs / 1000})`,
        ),
      );
    return new Set(rows.map((row) => runKey(row.step, row.chunkIndex)));
  }
}

/** Key of one piece of a story's work: `story`, `merge`, `images:3` … */
export function runKey(step: StepName, chunkIndex?: number | null): string {
  return chunkIndex === undefined || chunkIndex === null ? step : `${step}:${chunkIndex}`;
}
