import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What a piece of work is about: every log line written while it runs carries these fields (the
 * root logger's mixin reads them, see createRootLogger), and the job metrics read `provider`.
 */
export interface WorkContext {
  batchId?: string;
  storyId?: string;
  /** Pipeline step: `story`, `images`, `audio`, `merge`, `video`. */
  step?: string;
  /** 0-based chunk index of an image or audio chunk job (as in the API's chunk `index`). */
  chunk?: number;
  /** BullMQ job id (deterministic, e.g. `image.<storyId>.3`). */
  jobId?: string;
  /** 1-based attempt of the job (retries after a failure count; Retry-After waits do not). */
  attempt?: number;
  /** Queue the job came from. */
  queue?: string;
  /** Provider that made the step's last provider call, e.g. `openai-compatible`. */
  provider?: string;
  /** Wait a provider last asked for (Retry-After), ms; for the metrics, not logged. */
  retryAfterMs?: number;
}

/** The fields of the current context that go on log lines. */
export function workLogFields(): Omit<WorkContext, 'retryAfterMs'> {
  const store = storage.getStore();
  if (!store) return {};
  const { retryAfterMs: _unlogged, ...fields } = store;
  return fields;
}

const storage = new AsyncLocalStorage<WorkContext>();

/** Runs `work` with `fields` as its context; a nested call starts from the enclosing context. */
export function runInWorkContext<T>(fields: WorkContext, work: () => T): T {
  return storage.run({ ...storage.getStore(), ...defined(fields) }, work);
}

/** Adds fields to the current context (e.g. a batch id looked up after the job started); no-op outside one. */
export function addToWorkContext(fields: WorkContext): void {
  const store = storage.getStore();
  if (store) Object.assign(store, defined(fields));
}

/** The current context, or undefined outside any work. */
export function currentWorkContext(): Readonly<WorkContext> | undefined {
  return storage.getStore();
}

function defined(fields: WorkContext): WorkContext {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined && value !== null)) as WorkContext;
}
