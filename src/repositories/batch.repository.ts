import { Inject, Injectable } from '@nestjs/common';
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { DATABASE, type DatabaseConnection } from '../db/database.js';
import { type BatchJob, batchJobs, stories, type Story } from '../db/schema.js';

export type NewBatch = Pick<BatchJob, 'userId' | 'settings' | 'totalFiles'>;
export type NewStory = Pick<
  Story,
  'userId' | 'uploadId' | 'position' | 'originalContent' | 'customPrompt' | 'style' | 'language' | 'autoMode'
> &
  Partial<Pick<Story, 'title' | 'imagesStep' | 'audioStep' | 'mergeStep' | 'metadata'>>;

/** Batch jobs in PostgreSQL. */
@Injectable()
export class BatchRepository {
  constructor(@Inject(DATABASE) private readonly database: DatabaseConnection) {}

  private get db() {
    return this.database.db;
  }

  /** Inserts a batch and its stories in one transaction. */
  async createWithStories(batch: NewBatch, newStories: NewStory[]): Promise<{ batch: BatchJob; stories: Story[] }> {
    return this.db.transaction(async (tx) => {
      const [created] = await tx.insert(batchJobs).values(batch).returning();
      const rows = newStories.length
        ? await tx
            .insert(stories)
            .values(newStories.map((story) => ({ ...story, batchId: created!.id })))
            .returning()
        : [];
      return { batch: created!, stories: rows };
    });
  }

  /** A user's batches, newest first, one page of them, and how many there are in all. */
  async listByUser(userId: string, page: { offset: number; limit: number }): Promise<{ items: BatchJob[]; total: number }> {
    const where = eq(batchJobs.userId, userId);
    const [items, [count]] = await Promise.all([
      this.db.select().from(batchJobs).where(where).orderBy(desc(batchJobs.createdAt), desc(batchJobs.id)).offset(page.offset).limit(page.limit),
      this.db.select({ total: sql<number>`count(*)::int` }).from(batchJobs).where(where),
    ]);
    return { items, total: Number(count?.total ?? 0) };
  }

  /** Ids of a batch's stories, in the order of its files. */
  async storyIds(batchId: string): Promise<string[]> {
    const rows = await this.db.select({ id: stories.id }).from(stories).where(eq(stories.batchId, batchId)).orderBy(stories.position);
    return rows.map((row) => row.id);
  }

  async get(id: string): Promise<BatchJob | undefined> {
    const [row] = await this.db.select().from(batchJobs).where(eq(batchJobs.id, id));
    return row;
  }

  /**
   * Cancels a batch that has not ended.
   * @returns true when this call cancelled it.
   */
  async cancel(id: string, at: Date): Promise<boolean> {
    const rows = await this.db
      .update(batchJobs)
      .set({ status: 'cancelled', completedAt: at })
      .where(and(eq(batchJobs.id, id), inArray(batchJobs.status, ['pending', 'processing'])))
      .returning({ id: batchJobs.id });
    return rows.length > 0;
  }

  /**
   * Makes an ended batch `processing` again (a retry re-runs some of its stories); a batch
   * cancelled before it started counts as started now.
   */
  async reopen(id: string): Promise<void> {
    await this.db
      .update(batchJobs)
      .set({ status: 'processing', completedAt: null, startedAt: sql`coalesce(${batchJobs.startedAt}, now())` })
      .where(and(eq(batchJobs.id, id), inArray(batchJobs.status, ['completed', 'partially_completed', 'failed', 'cancelled'])));
  }

  /** Batches not ended (`pending` or `processing`): the reconciler checks each is queued or up to date. */
  listUnfinished(): Promise<BatchJob[]> {
    return this.db.select().from(batchJobs).where(inArray(batchJobs.status, ['pending', 'processing']));
  }

  /**
   * Writes a batch's seed fields computed from its stories; with `finalStatus` (every story had
   * ended) also its status and completedAt — only if the batch is still open (a cancelled batch
   * stays cancelled) and every story is still ended when the statement runs.
   */
  async updateSummary(
    id: string,
    values: Pick<BatchJob, 'processedFiles' | 'failedFiles' | 'results' | 'progress'>,
    finalStatus?: BatchJob['status'],
  ): Promise<void> {
    // Checked in the statement itself: a story reopened since the summary was computed keeps the batch open.
    const ends = sql`${batchJobs.status} in ('pending', 'processing')
      and not exists (select 1 from ${stories} where ${stories.batchId} = ${id} and ${stories.status} in ('pending', 'processing'))`;
    await this.db
      .update(batchJobs)
      .set({
        ...values,
        ...(finalStatus
          ? {
              status: sql`case when ${ends} then ${finalStatus}::batch_status else ${batchJobs.status} end`,
              completedAt: sql`case when ${ends} then coalesce(${batchJobs.completedAt}, now()) else ${batchJobs.completedAt} end`,
            }
          : {}),
      })
      .where(eq(batchJobs.id, id));
  }

  async update(id: string, values: Partial<Omit<BatchJob, 'id'>>): Promise<void> {
    await this.db.update(batchJobs).set(values).where(eq(batchJobs.id, id));
  }
}
