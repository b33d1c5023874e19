import { Inject, Injectable } from '@nestjs/common';
import { eq } from 'drizzle-orm';
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
}
