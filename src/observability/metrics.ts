import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The Prometheus metrics of one process (prom-client), served by `GET /metrics` of the API and by
 * the metrics port of `storyforge worker`. Each process counts what it did itself; queue depths
 * and the batch and story totals are read from Redis and the database at scrape time, so every
 * process reports the same values for those (aggregate them with `max`, not `sum`).
 * docs/monitoring.md lists them with example queries.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

/** Seconds: from 50 ms (a card image) to 10 min (a long video). */
const STEP_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * Duration of one step job (a whole step for story, merge, video; one chunk for images, audio),
 * s, by `step`, `provider` (the one that made it; `none` for merge and video) and `outcome`:
 * `done`, `failed` (the attempt failed; BullMQ may retry it), `requeued` (back in the queue
 * without using an attempt: a provider's Retry-After, a shutdown).
 */
export const stepDuration = new Histogram({
  name: 'storyforge_step_duration_seconds',
  help: 'Duration of one step job (one chunk for images and audio), seconds',
  labelNames: ['step', 'provider', 'outcome'] as const,
  buckets: STEP_BUCKETS,
  registers: [metricsRegistry],
});

/** One call to a provider (one HTTP request for networked ones), s, by capability, provider and status (`ok`, an HTTP status, `timeout`, `network`, `error`). */
export const providerCallDuration = new Histogram({
  name: 'storyforge_provider_call_duration_seconds',
  help: 'Duration of one provider call, seconds',
  labelNames: ['capability', 'provider', 'status'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300],
  registers: [metricsRegistry],
});

/** Failed provider calls by capability, provider and status (an HTTP status, `timeout`, `network`, `error`). */
export const providerCallErrors = new Counter({
  name: 'storyforge_provider_call_errors_total',
  help: 'Failed provider calls',
  labelNames: ['capability', 'provider', 'status'] as const,
  registers: [metricsRegistry],
});

/** Job runs that were a retry of a failed attempt (attempt 2 and later), by queue and step. */
export const jobRetries = new Counter({
  name: 'storyforge_job_retries_total',
  help: 'Job runs that retried a failed attempt',
  labelNames: ['queue', 'step'] as const,
  registers: [metricsRegistry],
});

/** Step jobs put back in the queue for a provider's Retry-After (no attempt used), by step and provider. */
export const retryAfterWaits = new Counter({
  name: 'storyforge_retry_after_waits_total',
  help: "Step jobs put back in the queue for a provider's Retry-After",
  labelNames: ['step', 'provider'] as const,
  registers: [metricsRegistry],
});

/** Seconds those jobs were told to wait, summed. */
export const retryAfterSeconds = new Counter({
  name: 'storyforge_retry_after_wait_seconds_total',
  help: "Seconds of Retry-After waits asked for by providers",
  labelNames: ['step', 'provider'] as const,
  registers: [metricsRegistry],
});

/** Provider calls answered by a fallback, by capability, the chosen provider (`from`) and the one that answered (`to`). */
export const providerFallbacks = new Counter({
  name: 'storyforge_provider_fallbacks_total',
  help: 'Calls answered by a fallback provider instead of the chosen one',
  labelNames: ['capability', 'from', 'to'] as const,
  registers: [metricsRegistry],
});

/** Jobs taken back from a worker that stopped answering (BullMQ's stalled-job check), by queue. */
export const stalledJobs = new Counter({
  name: 'storyforge_jobs_stalled_total',
  help: 'Jobs taken back from a worker that stopped answering',
  labelNames: ['queue'] as const,
  registers: [metricsRegistry],
});

/** HTTP requests, s, by method, route (its pattern, e.g. `/stories/:id`) and status. */
export const httpRequestDuration = new Histogram({
  name: 'storyforge_http_request_duration_seconds',
  help: 'Duration of HTTP requests, seconds',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metricsRegistry],
});

/** Jobs in each queue by state (waiting, delayed, active, prioritized, waiting-children, failed), read from Redis at scrape time. */
export const queueJobs = new Gauge({
  name: 'storyforge_queue_jobs',
  help: 'Jobs in each queue by state',
  labelNames: ['queue', 'state'] as const,
  registers: [metricsRegistry],
});

/** Age of the oldest waiting job of each queue, s (0 when none waits), read at scrape time. */
export const queueOldestWaitingAge = new Gauge({
  name: 'storyforge_queue_oldest_waiting_age_seconds',
  help: 'Age of the oldest job waiting in each queue, seconds',
  labelNames: ['queue'] as const,
  registers: [metricsRegistry],
});

/** Batches by status (final ones: completed, partially_completed, failed, cancelled), read from the database at scrape time. */
export const batchesByStatus = new Gauge({
  name: 'storyforge_batches',
  help: 'Batches by status',
  labelNames: ['status'] as const,
  registers: [metricsRegistry],
});

/** Stories by status (final ones: completed, failed, cancelled), read from the database at scrape time. */
export const storiesByStatus = new Gauge({
  name: 'storyforge_stories',
  help: 'Stories by status',
  labelNames: ['status'] as const,
  registers: [metricsRegistry],
});

/** Whether each source read at scrape time answered (`queues`: Redis, `database`), 1 or 0. */
export const scrapeSourceUp = new Gauge({
  name: 'storyforge_scrape_source_up',
  help: 'Whether a source read at scrape time answered (1) or not (0)',
  labelNames: ['source'] as const,
  registers: [metricsRegistry],
});

/** Something that sets gauges from Redis or the database before a scrape (see {@link addScrapeSource}). */
export type ScrapeSource = () => Promise<void>;

const scrapeSources = new Set<ScrapeSource>();

/** Registers a source read before each scrape; returns a function that removes it. */
export function addScrapeSource(source: ScrapeSource): () => void {
  scrapeSources.add(source);
  return () => scrapeSources.delete(source);
}

/**
 * The metrics in Prometheus's text format, after reading every scrape source (each one's
 * failures are its own business: it sets {@link scrapeSourceUp}).
 */
export async function renderMetrics(): Promise<string> {
  await Promise.all([...scrapeSources].map((source) => source().catch(() => undefined)));
  return metricsRegistry.metrics();
}

/** Content-Type of {@link renderMetrics}'s answer. */
export const METRICS_CONTENT_TYPE = metricsRegistry.contentType;
