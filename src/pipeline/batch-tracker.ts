/** Injection token of the {@link BatchTracker} (bound to the batch service in AppModule). */
export const BATCH_TRACKER = Symbol('BATCH_TRACKER');

/**
 * What the pipeline needs from batches: starting one (the `batch-stories` job) and bringing its
 * summary up to date after a story moved on. Implemented by the services layer's BatchService.
 */
export interface BatchTracker {
  /** Marks the batch started and calls `startStory` for each of its stories. @throws Error for an unknown batch. */
  start(batchId: string, startStory: (storyId: string) => Promise<void>): Promise<void>;
  /** Recomputes the batch's progress and status from its stories; safe to call any number of times. */
  refresh(batchId: string): Promise<unknown>;
}
