import { Inject, Injectable } from '@nestjs/common';
import { and, asc, desc, eq, getTableColumns, ne, notExists, sql } from 'drizzle-orm';
import { DATABASE, type DatabaseConnection } from '../db/database.js';
import {
  type AudioChunk,
  audioChunks,
  type BatchJob,
  batchJobs,
  type ImageChunk,
  imageChunks,
  type StepName,
  type StepStatus,
  type Story,
  stories,
  type StoryMetadata,
  uploads,
} from '../db/schema.js';

/** A story without its texts and metadata (which may be megabytes): what progress reports need. */
export type StoryProgressRow = Omit<Story, 'originalContent' | 'generatedContent' | 'metadata'>;

/** One story of a batch with its upload's file name and its chunk counts (see {@link StoryRepository.batchWithProgress}). */
export interface StoryProgressRecord {
  story: StoryProgressRow;
  /** The upload's original file name; null for a story made from text or whose upload is gone. */
  uploadName: string | null;
  images: { done: number; total: number };
  audio: { done: number; total: number };
  /** The fallbacks this story used (`metadata.fallbacks`), e.g. "audio 2: espeak-ng (after edge)". */
  fallbacks: string[];
}

const { originalContent: _original, generatedContent: _generated, metadata: _metadata, ...progressColumns } = getTableColumns(stories);

/**
 * `(SELECT ARRAY[count(*) FILTER (WHERE status = 'completed'), count(*)] FROM chunks WHERE story_id = stories.id)`:
 * a story's finished and total chunks of one table in one subquery.
 */
function chunkCounts(table: typeof imageChunks | typeof audioChunks) {
  return sql<number[] | null>`(select array[count(*) filter (where ${table.status} = 'completed'), count(*)]::int[] from ${table} where ${table.storyId} = ${stories.id})`;
}

/** The progress columns of a story row with its upload's name, chunk counts and fallbacks. */
const progressSelection = {
  story: progressColumns,
  uploadName: uploads.originalName,
  imageCounts: chunkCounts(imageChunks),
  audioCounts: chunkCounts(audioChunks),
  fallbacks: sql<string[] | null>`coalesce(${stories.metadata} -> 'fallbacks', '[]'::jsonb)`,
};

/** A row read with {@link progressSelection} as a {@link StoryProgressRecord}. */
function progressRecord(row: {
  story: StoryProgressRow;
  uploadName: string | null;
  imageCounts: number[] | null;
  audioCounts: number[] | null;
  fallbacks: string[] | null;
}): StoryProgressRecord {
  const counts = (pair: number[] | null) => ({ done: Number(pair?.[0] ?? 0), total: Number(pair?.[1] ?? 0) });
  return {
    story: row.story,
    uploadName: row.uploadName,
    images: counts(row.imageCounts),
    audio: counts(row.audioCounts),
    fallbacks: Array.isArray(row.fallbacks) ? row.fallbacks : [],
  };
}

/** Column of each step's status on a story. */
export const STEP_COLUMN = {
  story: 'storyStep',
  images: 'imagesStep',
  audio: 'audioStep',
  merge: 'mergeStep',
  video: 'videoStep',
} as const satisfies Record<StepName, keyof Story>;

/** A story column that holds a step's status. */
export type StepColumn = (typeof STEP_COLUMN)[StepName];

const stepColumn = (step: StepName) => stories[STEP_COLUMN[step]];

/** The kinds of chunk a story is cut into; each kind has its table and its chunked step. */
export type ChunkKind = 'images' | 'audio';

/** A chunk of either kind, as stored. */
export type Chunk = ImageChunk | AudioChunk;

/** Chunk kind → its table. */
const CHUNK_TABLE = { images: imageChunks, audio: audioChunks } as const;
const chunkTable = (kind: ChunkKind): typeof imageChunks | typeof audioChunks => CHUNK_TABLE[kind];

/** A chunk of one kind, as stored. */
export type ChunkOf<K extends ChunkKind> = K extends 'images' ? ImageChunk : AudioChunk;

/** What a finished chunk of each kind records besides its status. */
export type ChunkValues<K extends ChunkKind> = K extends 'images'
  ? Partial<Omit<ImageChunk, 'id' | 'storyId' | 'index' | 'status'>>
  : Partial<Omit<AudioChunk, 'id' | 'storyId' | 'index' | 'status'>>;

/** Every step column set by a rule: `CASE WHEN step IN (from) THEN to ELSE step END` for each step. */
function moveSteps(from: StepStatus[], to: StepStatus) {
  return Object.fromEntries(
    Object.values(STEP_COLUMN).map((key) => [key, sql`case when ${stories[key]} in ${from} then ${to}::step_status else ${stories[key]} end`]),
  );
}

/** True once a story has ended (completed, failed or cancelled): no step may work on it. */
export function storyHasEnded(story: Pick<Story, 'status'>): boolean {
  return story.status === 'completed' || story.status === 'failed' || story.status === 'cancelled';
}

/**
 * The story's metadata with `patch` merged in, as an SQL expression on the column: top-level keys
 * replace, except objects, which merge one level deep.
 */
function mergedMetadata(patch: StoryMetadata) {
  let merged = sql`${stories.metadata}`;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const path = `{${key}}`;
    const json = JSON.stringify(value);
    merged =
      value && typeof value === 'object' && !Array.isArray(value)
        ? sql`jsonb_set(${merged}, ${path}::text[], coalesce(${stories.metadata} -> ${key}::text, '{}'::jsonb) || ${json}::jsonb)`
        : sql`jsonb_set(${merged}, ${path}::text[], ${json}::jsonb)`;
  }
  return merged;
}

export type NewImageChunk = Pick<ImageChunk, 'index' | 'text' | 'prompt'>;
export type NewAudioChunk = Pick<AudioChunk, 'index' | 'text' | 'spokenText'>;

/** Stories and their image and audio chunks in PostgreSQL. Queries only; the rules live in services. */
@Injectable()
export class StoryRepository {
  constructor(@Inject(DATABASE) private readonly database: DatabaseConnection) {}

  private get db() {
    return this.database.db;
  }

  async get(id: string): Promise<Story | undefined> {
    const [row] = await this.db.select().from(stories).where(eq(stories.id, id));
    return row;
  }

  /** A story's retry count (`generation`), read alone; undefined when the story does not exist. */
  async generation(id: string): Promise<number | undefined> {
    const [row] = await this.db.select({ generation: stories.generation }).from(stories).where(eq(stories.id, id));
    return row?.generation;
  }

  async getOrThrow(id: string): Promise<Story> {
    const story = await this.get(id);
    if (!story) throw new Error(`Story ${id} does not exist`);
    return story;
  }

  /** One user's stories, newest first, optionally of one batch or status, and how many match in all. */
  async listByUser(
    userId: string,
    filter: { batchId?: string; status?: Story['status'] },
    page: { offset: number; limit: number },
  ): Promise<{ items: Story[]; total: number }> {
    const where = and(
      eq(stories.userId, userId),
      filter.batchId ? eq(stories.batchId, filter.batchId) : undefined,
      filter.status ? eq(stories.status, filter.status) : undefined,
    );
    const [items, [count]] = await Promise.all([
      this.db.select().from(stories).where(where).orderBy(desc(stories.createdAt), asc(stories.position), desc(stories.id)).offset(page.offset).limit(page.limit),
      this.db.select({ total: sql<number>`count(*)::int` }).from(stories).where(where),
    ]);
    return { items, total: Number(count?.total ?? 0) };
  }

  /** Inserts one story (outside a batch). */
  async create(story: typeof stories.$inferInsert): Promise<Story> {
    const [row] = await this.db.insert(stories).values(story).returning();
    return row!;
  }

  /** Deletes a story; its chunks and step runs go with it. */
  async delete(id: string): Promise<void> {
    await this.db.delete(stories).where(eq(stories.id, id));
  }

  /**
   * A batch and every story of it in position order, each with its upload's file name and its image
   * and audio chunk counts, in one statement whatever the number of stories (the batch's columns
   * come with each story row; no story texts). What status polls and batch refreshes read.
   * @returns undefined when there is no such batch.
   */
  async batchWithProgress(batchId: string): Promise<{ batch: BatchJob; stories: StoryProgressRecord[] } | undefined> {
    const rows = await this.db
      .select({ batch: getTableColumns(batchJobs), ...progressSelection })
      .from(batchJobs)
      .leftJoin(stories, eq(stories.batchId, batchJobs.id))
      .leftJoin(uploads, eq(uploads.id, stories.uploadId))
      .where(eq(batchJobs.id, batchId))
      .orderBy(asc(stories.position));
    const [first] = rows;
    if (!first) return undefined;
    const withStories = rows.filter((row): row is typeof row & { story: StoryProgressRow } => row.story !== null);
    return { batch: first.batch, stories: withStories.map(progressRecord) };
  }

  /**
   * One story's progress (columns without its texts, upload name, chunk counts, fallbacks) in
   * one statement: what a live progress event needs.
   * @returns undefined when there is no such story.
   */
  async storyProgress(id: string): Promise<StoryProgressRecord | undefined> {
    const [row] = await this.db.select(progressSelection).from(stories).leftJoin(uploads, eq(uploads.id, stories.uploadId)).where(eq(stories.id, id));
    return row && progressRecord(row);
  }

  listByBatch(batchId: string): Promise<Story[]> {
    return this.db.select().from(stories).where(eq(stories.batchId, batchId)).orderBy(asc(stories.position));
  }

  async update(id: string, values: Partial<Omit<Story, 'id'>>): Promise<void> {
    await this.db.update(stories).set(values).where(eq(stories.id, id));
  }

  /**
   * Merges keys into the story's metadata atomically in SQL (safe while the images and audio steps
   * write at the same time): top-level keys replace, except objects, which merge one level deep.
   */
  async mergeMetadata(id: string, patch: StoryMetadata): Promise<void> {
    await this.db.update(stories).set({ metadata: mergedMetadata(patch) }).where(eq(stories.id, id));
  }

  /**
   * Puts a merge's or a video render's output in place and completes its step, as one decision
   * that nobody can interleave with. In a transaction holding the story's row lock, it checks that
   * the story has not ended and that the step is still `queued` or `running`; only then it runs
   * `place` (which moves the files under their keys) and records `values`, `metadata` (merged as
   * {@link mergeMetadata} does) and the step as `completed`.
   *
   * A run that was overtaken (its job was taken over by another worker after its lock expired,
   * and that run has finished the step; or the story was cancelled or has ended) finds the step
   * no longer open and writes nothing, so a finished story's files are never replaced. Ending or
   * cancelling the story updates the same row, so it waits for this transaction.
   * `place` must not use the database (the row is locked; on embedded PGlite the connection is).
   * @returns true when this run's output was placed; false when it is to be discarded.
   * @throws what `place` throws (the transaction is rolled back; the step stays open).
   */
  async completeStepWithOutput(
    id: string,
    step: 'merge' | 'video',
    output: { values?: Partial<Pick<Story, 'narrationKey' | 'subtitlesKey' | 'videoKey'>>; metadata?: StoryMetadata },
    place: () => Promise<void>,
  ): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .select({ status: stories.status, stepStatus: stepColumn(step) })
        .from(stories)
        .where(eq(stories.id, id))
        .for('update');
      if (!row || storyHasEnded(row) || !['queued', 'running'].includes(row.stepStatus)) return false;
      await place();
      await tx
        .update(stories)
        .set({ ...output.values, metadata: mergedMetadata(output.metadata ?? {}), [STEP_COLUMN[step]]: 'completed' })
        .where(eq(stories.id, id));
      return true;
    });
  }

  /**
   * Appends one line to `metadata.fallbacks` (which part a fallback provider made), atomically,
   * keeping at most 200 lines.
   */
  async addFallback(id: string, line: string): Promise<void> {
    const appended = sql`coalesce(${stories.metadata} -> 'fallbacks', '[]'::jsonb) || ${JSON.stringify([line])}::jsonb`;
    await this.db
      .update(stories)
      .set({ metadata: sql`jsonb_set(${stories.metadata}, '{fallbacks}', (case when jsonb_array_length(${appended}) > 200 then ${stories.metadata} -> 'fallbacks' else ${appended} end))` })
      .where(eq(stories.id, id));
  }

  /**
   * Moves a step from one of `from` to `to`, atomically.
   * @returns true when this call made the change (so exactly one of several racing callers wins).
   */
  async transitionStep(id: string, step: StepName, from: StepStatus[], to: StepStatus): Promise<boolean> {
    const column = stepColumn(step);
    const rows = await this.db
      .update(stories)
      .set({ [STEP_COLUMN[step]]: to })
      .where(and(eq(stories.id, id), sql`${column} in ${from}`))
      .returning({ id: stories.id });
    return rows.length > 0;
  }

  /**
   * Starts the story step: step `running`, story `processing`, `startedAt` set — only while the
   * story has not ended (a cancelled story stays cancelled).
   * @returns true when the step was started.
   */
  async startStoryStep(id: string, startedAt: Date): Promise<boolean> {
    const rows = await this.db
      .update(stories)
      .set({ storyStep: 'running', status: 'processing', startedAt })
      .where(and(eq(stories.id, id), sql`${stories.status} in ('pending', 'processing')`, sql`${stories.storyStep} in ('pending', 'queued', 'running')`))
      .returning({ id: stories.id });
    return rows.length > 0;
  }

  /**
   * Marks a chunked step completed when every chunk of the story is completed.
   * @returns true when this call completed the step.
   */
  async completeStepIfAllChunksDone(id: string, step: ChunkKind): Promise<boolean> {
    const table = chunkTable(step);
    const column = stepColumn(step);
    const rows = await this.db
      .update(stories)
      .set({ [STEP_COLUMN[step]]: 'completed' })
      .where(
        and(
          eq(stories.id, id),
          sql`${column} in ('queued', 'running')`,
          notExists(
            this.db
              .select({ one: sql`1` })
              .from(table)
              .where(and(eq(table.storyId, id), ne(table.status, 'completed'))),
          ),
        ),
      )
      .returning({ id: stories.id });
    return rows.length > 0;
  }

  /**
   * Finishes a story whose requested steps are all completed or skipped (only while it has not
   * ended: a cancelled story stays cancelled).
   * @returns true when this call completed it.
   */
  async completeIfAllStepsDone(id: string, completedAt: Date): Promise<boolean> {
    const done = (step: StepName) => sql`${stepColumn(step)} in ('completed', 'skipped')`;
    const rows = await this.db
      .update(stories)
      .set({ status: 'completed', completedAt })
      .where(
        and(
          eq(stories.id, id),
          sql`${stories.status} in ('pending', 'processing')`,
          done('story'),
          done('images'),
          done('audio'),
          done('merge'),
          done('video'),
        ),
      )
      .returning({ id: stories.id });
    return rows.length > 0;
  }

  /**
   * Marks a step failed for good; the story keeps the first failure as its `failedStep` and `error`.
   * The story itself fails later, in {@link settleFailed}, once no other step is still working.
   * A story that has ended (e.g. was cancelled while the step ran) is left as it is, and so is one
   * retried since `generation` was read (the failure is of work from before the retry).
   * @returns true when this call failed the step.
   */
  async failStep(id: string, step: StepName, error: string, generation?: number): Promise<boolean> {
    const column = stepColumn(step);
    const rows = await this.db
      .update(stories)
      .set({
        [STEP_COLUMN[step]]: 'failed',
        failedStep: sql`coalesce(${stories.failedStep}, ${step})`,
        error: sql`coalesce(${stories.error}, ${error})`,
      })
      .where(
        and(
          eq(stories.id, id),
          sql`${stories.status} in ('pending', 'processing')`,
          sql`${column} not in ('completed', 'failed')`,
          generation === undefined ? undefined : eq(stories.generation, generation),
        ),
      )
      .returning({ id: stories.id });
    return rows.length > 0;
  }

  /**
   * Ends a story whose step failed, once none of its steps is queued or running any more (so that
   * work side by side, such as images while audio failed, finishes and is kept).
   * @returns true when this call ended it.
   */
  async settleFailed(id: string, at: Date): Promise<boolean> {
    const busy = Object.values(STEP_COLUMN).map((key) => sql`${stories[key]} in ('queued', 'running')`);
    const rows = await this.db
      .update(stories)
      .set({ status: 'failed', completedAt: at })
      .where(
        and(
          eq(stories.id, id),
          sql`${stories.status} in ('pending', 'processing')`,
          sql`${stories.failedStep} is not null`,
          sql`not (${sql.join(busy, sql` or `)})`,
        ),
      )
      .returning({ id: stories.id });
    return rows.length > 0;
  }

  /**
   * Cancels a story that has not ended: the story becomes `cancelled`, and every step that was
   * pending, queued or running becomes `cancelled` (finished steps and their files are kept).
   * @returns true when this call cancelled it.
   */
  async cancel(id: string, at: Date): Promise<boolean> {
    const rows = await this.db
      .update(stories)
      .set({ status: 'cancelled', completedAt: at, ...moveSteps(['pending', 'queued', 'running'], 'cancelled') })
      .where(and(eq(stories.id, id), sql`${stories.status} in ('pending', 'processing')`))
      .returning({ id: stories.id });
    return rows.length > 0;
  }

  /**
   * Reopens a failed or cancelled story for a retry: status `processing`, error cleared, and every
   * step that failed, was cancelled or was left queued/running goes back to `pending`, so that it
   * starts again from where it stopped (completed steps and chunks are kept). Failed chunks become
   * pending too.
   * @returns true when this call reopened it (a second call finds nothing to do).
   */
  async reopen(id: string): Promise<boolean> {
    const reopened = await this.db.transaction(async (tx) => {
      const rows = await tx
        .update(stories)
        .set({
          status: 'processing',
          error: null,
          failedStep: null,
          completedAt: null,
          generation: sql`${stories.generation} + 1`,
          ...moveSteps(['failed', 'cancelled', 'queued', 'running'], 'pending'),
        })
        .where(and(eq(stories.id, id), sql`${stories.status} in ('failed', 'cancelled')`))
        .returning({ id: stories.id });
      if (!rows.length) return false;
      await tx.update(imageChunks).set({ status: 'pending', error: null }).where(and(eq(imageChunks.storyId, id), eq(imageChunks.status, 'failed')));
      await tx.update(audioChunks).set({ status: 'pending', error: null }).where(and(eq(audioChunks.storyId, id), eq(audioChunks.status, 'failed')));
      return true;
    });
    return reopened;
  }

  /**
   * Claims a chunk for regeneration: its step goes from `completed` to `queued` and the chunk to
   * `pending`, in one transaction (so no one sees the step open with every chunk done).
   * @returns false when the step was not `completed` (nothing changed).
   */
  async reopenChunk(step: ChunkKind, chunk: { id: string; storyId: string }): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const column = stepColumn(step);
      const rows = await tx
        .update(stories)
        .set({ [STEP_COLUMN[step]]: 'queued' })
        .where(and(eq(stories.id, chunk.storyId), sql`${column} = 'completed'`, sql`${stories.status} <> 'cancelled'`))
        .returning({ id: stories.id });
      if (!rows.length) return false;
      const table = chunkTable(step);
      await tx.update(table).set({ status: 'pending', error: null }).where(eq(table.id, chunk.id));
      return true;
    });
  }

  /**
   * Makes a story `processing` again for a regenerated chunk (unless it was cancelled meanwhile);
   * `clearFailure` also clears the failure that the regeneration repairs.
   */
  async reopenForChunk(id: string, clearFailure: boolean): Promise<void> {
    await this.db
      .update(stories)
      .set({ status: 'processing', completedAt: null, ...(clearFailure ? { failedStep: null, error: null } : {}) })
      .where(and(eq(stories.id, id), sql`${stories.status} <> 'cancelled'`));
  }

  /**
   * Stories that are not over (pending or processing), oldest first, a page at a time: pass the
   * last story of the previous page as `after` for the next one (the reconciler's work list).
   */
  listUnfinished(limit: number, after?: Pick<Story, 'createdAt' | 'id'>): Promise<Story[]> {
    return this.db
      .select()
      .from(stories)
      .where(
        and(
          sql`${stories.status} in ('pending', 'processing')`,
          after ? sql`(${stories.createdAt}, ${stories.id}) > (${after.createdAt.toISOString()}::timestamptz, ${after.id}::uuid)` : undefined,
        ),
      )
      .orderBy(asc(stories.createdAt), asc(stories.id))
      .limit(limit);
  }

  /** Replaces all chunks of a story in one transaction (the story step's output). */
  async replaceChunks(storyId: string, images: NewImageChunk[], audio: NewAudioChunk[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.delete(imageChunks).where(eq(imageChunks.storyId, storyId));
      await tx.delete(audioChunks).where(eq(audioChunks.storyId, storyId));
      if (images.length) await tx.insert(imageChunks).values(images.map((c) => ({ ...c, storyId })));
      if (audio.length) await tx.insert(audioChunks).values(audio.map((c) => ({ ...c, storyId })));
    });
  }

  /** A story's chunks of one kind, in order. */
  chunks<K extends ChunkKind>(kind: K, storyId: string): Promise<ChunkOf<K>[]> {
    const table = chunkTable(kind);
    return this.db.select().from(table).where(eq(table.storyId, storyId)).orderBy(asc(table.index)) as unknown as Promise<ChunkOf<K>[]>;
  }

  /** A story's chunk of one kind by its index, or undefined. */
  async chunk<K extends ChunkKind>(kind: K, storyId: string, index: number): Promise<ChunkOf<K> | undefined> {
    const table = chunkTable(kind);
    const [row] = await this.db
      .select()
      .from(table)
      .where(and(eq(table.storyId, storyId), eq(table.index, index)));
    return row as ChunkOf<K> | undefined;
  }

  /** A chunk of one kind by its own id (the API's chunk routes), whatever its story. */
  async chunkById<K extends ChunkKind>(kind: K, id: string): Promise<ChunkOf<K> | undefined> {
    const table = chunkTable(kind);
    const [row] = await this.db.select().from(table).where(eq(table.id, id));
    return row as ChunkOf<K> | undefined;
  }

  imageChunks(storyId: string): Promise<ImageChunk[]> {
    return this.chunks('images', storyId);
  }

  audioChunks(storyId: string): Promise<AudioChunk[]> {
    return this.chunks('audio', storyId);
  }

  /**
   * Records a chunk as done and puts its file in place, as one decision: in a transaction holding
   * the story's row lock and the chunk's (taken by one statement), only while the story has not ended, `place` is given
   * the chunk as it is now and moves the new file under its key, or returns false to keep what is
   * there. A chunk whose job was still working when its story failed or was cancelled is not
   * recorded, so the rollback's view (only finished chunks keep files) stays true; and a run
   * overtaken by another run of the same job (see {@link completeStepWithOutput}) never replaces
   * or removes the file of a chunk that run finished, even once the story has completed.
   * `place` must not use the database.
   * @returns true when the chunk was recorded (and its file placed).
   * @throws what `place` throws (nothing is recorded).
   */
  async completeChunk<K extends ChunkKind>(
    step: K,
    chunk: { id: string; storyId: string },
    values: ChunkValues<K>,
    place: (current: Pick<Chunk, 'status' | 'storageKey'>) => Promise<boolean>,
  ): Promise<boolean> {
    const table = chunkTable(step);
    return this.db.transaction(async (tx) => {
      // One statement takes both row locks (the story's first: it is the outer side of the join).
      const [row] = await tx
        .select({ storyStatus: stories.status, status: table.status, storageKey: table.storageKey })
        .from(stories)
        .innerJoin(table, and(eq(table.id, chunk.id), eq(table.storyId, stories.id)))
        .where(eq(stories.id, chunk.storyId))
        .for('update');
      if (!row || storyHasEnded({ status: row.storyStatus })) return false;
      const current = { status: row.status, storageKey: row.storageKey };
      if (!(await place(current))) return false;
      await tx
        .update(table)
        .set({ ...(values as ChunkValues<ChunkKind>), status: 'completed', error: null })
        .where(eq(table.id, chunk.id));
      return true;
    });
  }

  /** Sets columns of a chunk of one kind. */
  async updateChunk<K extends ChunkKind>(kind: K, id: string, values: ChunkValues<K> & { status?: Chunk['status'] }): Promise<void> {
    const table = chunkTable(kind);
    await this.db
      .update(table)
      .set(values as ChunkValues<ChunkKind>)
      .where(eq(table.id, id));
  }

  /** Finished and total chunk counts of a chunked step. */
  async chunkCounts(storyId: string, step: ChunkKind): Promise<{ done: number; total: number }> {
    const table = chunkTable(step);
    const [row] = await this.db
      .select({
        total: sql<number>`count(*)::int`,
        done: sql<number>`count(*) filter (where ${table.status} = 'completed')::int`,
      })
      .from(table)
      .where(eq(table.storyId, storyId));
    return { done: Number(row?.done ?? 0), total: Number(row?.total ?? 0) };
  }
}
