/**
 * Fault suite: what a user does when things go wrong, through the HTTP API. A provider down for
 * one story, then `POST /stories/batch/:id/retry`; cancelling a batch mid-run; submitting a
 * batch twice with one `Idempotency-Key`; calling retry twice. Each scenario has a stack of its own.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { FakeReply } from '../support/fake-openai-server.js';
import { FaultStack, type FileFingerprint, printFigures, sleep, storyFiles } from '../support/fault-harness.js';

const AUTO_MODE = { wordPerChunkImage: 30, wordPerChunkAudio: 20 };
const DOWN: FakeReply = { kind: 'error', status: 503, message: 'Service Unavailable: the model is overloaded' };

const figures: Record<string, string | number | boolean | undefined>[] = [];
afterAll(() => {
  for (const { scenario, ...rest } of figures) printFigures(`Recovery through the API: ${scenario}`, rest);
});

/** Stack with the API, two workers and a signed-in user; JOB_ATTEMPTS = 2 so that a dead provider fails a story quickly. */
async function recoveryStack(label: string, latencyMs = { chat: 150, images: 150, speech: 100 }): Promise<FaultStack> {
  const stack = await FaultStack.create({ label, fake: { latencyMs }, env: { JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '200' } });
  await Promise.all([stack.startApi(), stack.startWorker(), stack.startWorker()]);
  await stack.signIn();
  return stack;
}

/** Step runs per story id (all statuses). */
async function runsPerStory(stack: FaultStack, batchId: string): Promise<Record<string, number>> {
  const rows = await stack.sql<{ story_id: string; n: string }>(
    `SELECT s.id AS story_id, count(r.id) AS n FROM stories s LEFT JOIN step_runs r ON r.story_id = s.id WHERE s.batch_id = $1 GROUP BY s.id`,
    [batchId],
  );
  return Object.fromEntries(rows.map((r) => [r.story_id, Number(r.n)]));
}

/** Paths whose size, hash or mtime differ between two fingerprint sets, and paths only in one. */
function changedFiles(before: Record<string, FileFingerprint>, after: Record<string, FileFingerprint>): string[] {
  const paths = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...paths].filter((p) => JSON.stringify(before[p]) !== JSON.stringify(after[p])).sort();
}

describe('a provider down for one story', () => {
  let stack: FaultStack;
  beforeAll(async () => {
    stack = await recoveryStack('provider-down');
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('ends the batch partially_completed; a batch retry after the provider recovers completes it without touching the other stories', async () => {
    const seen: { batchId?: string } = {};
    onTestFailed(async () => console.error(await stack.diagnostics(seen.batchId)));
    const files = storyFiles(3, 90, 0);
    const down = files[1]!.hero;
    // Every call made for that story (its source text, its image prompts, its clips) gets a 503.
    stack.fake.setFaultInjector((request) => (request.rawBody.includes(down) ? DOWN : undefined));
    const batch = await stack.submitBatch(files, { autoMode: AUTO_MODE });
    seen.batchId = batch.batchId;
    const first = await stack.waitForBatchEnd(batch.batchId, { since: batch.submittedAt });
    expect(first.body.status).toBe('partially_completed');
    const downId = batch.storyIds[1]!;
    const others = batch.storyIds.filter((id) => id !== downId);
    expect(first.body.results.map((r: { storyId: string; status: string }) => [r.storyId, r.status])).toEqual(
      batch.storyIds.map((id) => [id, id === downId ? 'failed' : 'completed']),
    );
    const othersBefore = await stack.fingerprints(others);
    const runsBefore = await runsPerStory(stack, batch.batchId);

    // The provider recovers; the user retries the batch.
    stack.fake.setFaultInjector();
    const retried = await stack.api.post(`/stories/batch/${batch.batchId}/retry`, { token: stack.token });
    expect(retried.status).toBe(202);
    expect(retried.body.retried).toEqual([downId]);
    const second = await stack.waitForBatchEnd(batch.batchId, { since: Date.now() });
    const artifacts = await stack.checkArtifacts(batch.storyIds, batch.heroes);
    const othersAfter = await stack.fingerprints(others);
    const runsAfter = await runsPerStory(stack, batch.batchId);
    const changed = changedFiles(othersBefore, othersAfter);
    figures.push({
      scenario: 'provider down for 1 of 3 stories',
      'first end': first.body.status,
      'after retry': second.body.status,
      'retry ms': second.elapsedMs,
      'other stories: files / changed': `${Object.keys(othersBefore).length} / ${changed.length}`,
      'other stories: new step runs': others.reduce((sum, id) => sum + runsAfter[id]! - runsBefore[id]!, 0),
      'files = chunk rows': artifacts.problems.length === 0 ? 'yes' : 'NO',
    });
    expect(second.body.status).toBe('completed');
    expect(artifacts.problems).toEqual([]);
    expect(Object.keys(othersBefore).length).toBeGreaterThan(0);
    expect(changed).toEqual([]);
    for (const id of others) expect(runsAfter[id], `step runs of story ${id}`).toBe(runsBefore[id]);
  });
});

describe('cancel mid-run', () => {
  let stack: FaultStack;
  beforeAll(async () => {
    stack = await recoveryStack('cancel', { chat: 300, images: 700, speech: 600 });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('ends the batch cancelled: no job left in Redis, no step run or provider call started afterwards', async () => {
    const seen: { batchId?: string } = {};
    onTestFailed(async () => console.error(await stack.diagnostics(seen.batchId)));
    const batch = await stack.submitBatch(storyFiles(3, 150, 3), { autoMode: AUTO_MODE });
    seen.batchId = batch.batchId;
    await stack.waitForRows(`SELECT id FROM stories WHERE batch_id = $1 AND audio_step = 'running'`, [batch.batchId], { what: 'audio running' });
    const ours = (job: { data: Record<string, unknown> }) => batch.storyIds.includes(String(job.data.storyId)) || job.data.batchId === batch.batchId;
    const jobsBefore = (await stack.liveJobs()).filter(ours);

    const cancelled = await stack.api.post(`/stories/batch/${batch.batchId}/cancel`, { token: stack.token });
    const answeredAt = Date.now();
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.cancelled).toBe(true);
    expect(cancelled.body.batch.status).toBe('cancelled');

    // A moment for running calls to be aborted, then: nothing queued, nothing running, nothing new.
    await sleep(2_000);
    const jobsAfter = (await stack.liveJobs()).filter(ours);
    await sleep(2_000);
    const grace = 1_000;
    const lateRuns = await stack.sql(
      `SELECT r.step, r.chunk_index, r.started_at FROM step_runs r JOIN stories s ON s.id = r.story_id
       WHERE s.batch_id = $1 AND r.started_at > to_timestamp($2 / 1000.0)`,
      [batch.batchId, answeredAt + grace],
    );
    const [last] = await stack.sql<{ last: Date }>(
      `SELECT max(r.started_at) AS last FROM step_runs r JOIN stories s ON s.id = r.story_id WHERE s.batch_id = $1`,
      [batch.batchId],
    );
    const lateCalls = stack.fake.requests.filter((r) => r.receivedAt > answeredAt + grace && batch.heroes.some((h) => r.rawBody.includes(h)));
    const stories = await stack.sql(
      `SELECT status, story_step, images_step, audio_step, merge_step FROM stories WHERE batch_id = $1 ORDER BY position`,
      [batch.batchId],
    );
    const busy = stories.filter((s) => [s.story_step, s.images_step, s.audio_step, s.merge_step].some((x) => x === 'queued' || x === 'running'));
    const status = await stack.batchStatus(batch.batchId);
    const again = await stack.api.post(`/stories/batch/${batch.batchId}/cancel`, { token: stack.token });
    figures.push({
      scenario: 'cancel mid-run (3 stories)',
      'jobs before / 2 s after': `${jobsBefore.length} / ${jobsAfter.length}`,
      'step runs started > 1 s after': lateRuns.length,
      'provider calls > 1 s after': lateCalls.length,
      'last step run vs cancel ms': last?.last ? last.last.getTime() - answeredAt : '-',
      'stories': stories.map((s) => s.status).join(','),
      'batch 4 s later': status?.status,
      'second cancel': `${again.status} cancelled=${again.body.cancelled}`,
    });
    expect(jobsBefore.length).toBeGreaterThan(0);
    expect(jobsAfter).toEqual([]);
    expect(lateRuns).toEqual([]);
    expect(lateCalls.map((r) => `${r.route} ${r.id}`)).toEqual([]);
    expect(busy).toEqual([]);
    expect(stories.some((s) => s.status === 'cancelled')).toBe(true);
    expect(stories.every((s) => s.status === 'cancelled' || s.status === 'completed')).toBe(true);
    expect(status?.status).toBe('cancelled');
    expect(again.status).toBe(200);
    expect(again.body.cancelled).toBe(false);
  });
});

describe('double submit with one Idempotency-Key', () => {
  let stack: FaultStack;
  beforeAll(async () => {
    stack = await recoveryStack('idempotency');
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('makes one batch: the repeat answers the same batch, another body with the key answers 409', async () => {
    const seen: { batchId?: string } = {};
    onTestFailed(async () => console.error(await stack.diagnostics(seen.batchId)));
    const fileIds = await stack.upload(storyFiles(2, 80, 5));
    const key = randomUUID();
    const body = stack.batchBody(fileIds, AUTO_MODE);
    const headers = { 'idempotency-key': key };
    // A double click: both requests at once.
    const pair = await Promise.all([stack.createBatch(body, headers), stack.createBatch(body, headers)]);
    const made = pair.filter((a) => a.status === 202);
    // The one that lost the race either replays the first (202) or is told it is still running (409).
    for (const a of pair.filter((x) => x.status !== 202)) {
      expect([a.status, a.body.code]).toEqual([409, 'idempotency-request-in-progress']);
    }
    expect(made.length).toBeGreaterThanOrEqual(1);
    const batchId = made[0]!.body.batchId as string;
    seen.batchId = batchId;
    for (const a of made) expect(a.body.batchId).toBe(batchId);

    const replay = await stack.createBatch(body, headers);
    const other = await stack.createBatch({ ...body, style: { genre: 'ghost story' } }, headers);
    const [counts] = await stack.sql<{ batches: string; stories: string }>(
      `SELECT (SELECT count(*) FROM batch_jobs) AS batches, (SELECT count(*) FROM stories) AS stories`,
    );
    const end = await stack.waitForBatchEnd(batchId);
    const storyIds = end.body.stories.map((s: { storyId: string }) => s.storyId);
    const artifacts = await stack.checkArtifacts(storyIds);
    figures.push({
      scenario: 'double submit, one Idempotency-Key',
      'concurrent pair': pair.map((a) => `${a.status}${a.body.code ? ` ${a.body.code}` : ''}`).join(' + '),
      repeat: `${replay.status} replayed=${replay.headers.get('idempotent-replayed')}`,
      'other body': `${other.status} ${other.body.code}`,
      'batches / stories made': `${counts!.batches} / ${counts!.stories}`,
      batch: end.body.status,
      'files = chunk rows': artifacts.problems.length === 0 ? 'yes' : 'NO',
    });
    expect(replay.status).toBe(202);
    expect(replay.body.batchId).toBe(batchId);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('idempotency-key-reused');
    expect([Number(counts!.batches), Number(counts!.stories)]).toEqual([1, 2]);
    expect(end.body.status).toBe('completed');
    expect(artifacts.problems).toEqual([]);
  });
});

describe('retry called twice', () => {
  let stack: FaultStack;
  beforeAll(async () => {
    stack = await recoveryStack('retry-twice');
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('does the work once: two retries at once restart the failed story once; a retry of a finished batch changes nothing', async () => {
    const seen: { batchId?: string } = {};
    onTestFailed(async () => console.error(await stack.diagnostics(seen.batchId)));
    const files = storyFiles(2, 90, 8);
    const hero = files[0]!.hero;
    // Only the speech provider is down for this story: its text and images are made, its clips fail.
    stack.fake.setFaultInjector((request, { route }) => (route === 'speech' && request.rawBody.includes(hero) ? DOWN : undefined));
    const batch = await stack.submitBatch(files, { autoMode: AUTO_MODE });
    seen.batchId = batch.batchId;
    const first = await stack.waitForBatchEnd(batch.batchId, { since: batch.submittedAt });
    expect(first.body.status).toBe('partially_completed');
    const failedId = batch.storyIds[0]!;
    const [failed] = await stack.sql(`SELECT failed_step, images_step FROM stories WHERE id = $1`, [failedId]);
    expect(failed).toMatchObject({ failed_step: 'audio', images_step: 'completed' });
    const before = await stack.fingerprints(batch.storyIds);
    const [{ at: retriedAt }] = await stack.sql<{ at: Date }>('SELECT now() AS at');

    stack.fake.setFaultInjector();
    const both = await Promise.all([1, 2].map(() => stack.api.post(`/stories/batch/${batch.batchId}/retry`, { token: stack.token })));
    const second = await stack.waitForBatchEnd(batch.batchId);
    const artifacts = await stack.checkArtifacts(batch.storyIds, batch.heroes);
    // The work the retry did, per step: each clip once, one merge, nothing else.
    const work = await stack.sql<{ step: string; n: string }>(
      `SELECT step, count(*) AS n FROM step_runs WHERE story_id = $1 AND started_at >= $2 AND status = 'completed' GROUP BY step ORDER BY step`,
      [failedId, retriedAt],
    );
    const [clips] = await stack.sql<{ n: string }>(`SELECT count(*) AS n FROM audio_chunks WHERE story_id = $1`, [failedId]);
    const middle = await stack.fingerprints(batch.storyIds);
    const runsMiddle = await runsPerStory(stack, batch.batchId);

    // A third retry, of a batch that has completed: nothing to do.
    const third = await stack.api.post(`/stories/batch/${batch.batchId}/retry`, { token: stack.token });
    await sleep(2_000);
    const after = await stack.fingerprints(batch.storyIds);
    const runsAfter = await runsPerStory(stack, batch.batchId);
    const status = await stack.batchStatus(batch.batchId);
    const imagesOfFailed = Object.keys(before).filter((p) => p.includes(`${failedId}/images/`));
    figures.push({
      scenario: 'retry twice (speech down for 1 of 2)',
      'two retries at once': both.map((a) => `${a.status} retried=${a.body.retried?.length}`).join(' + '),
      'after retry': second.body.status,
      'work redone': work.map((w) => `${w.step}=${w.n}`).join(' ') + ` (clips ${clips!.n})`,
      'kept images changed': changedFiles(
        Object.fromEntries(imagesOfFailed.map((p) => [p, before[p]!])),
        Object.fromEntries(imagesOfFailed.map((p) => [p, middle[p]!])),
      ).length,
      'third retry': `${third.status} retried=${third.body.retried?.length}`,
      'files / step runs changed by it': `${changedFiles(middle, after).length} / ${Object.keys(runsAfter).reduce((n, id) => n + runsAfter[id]! - runsMiddle[id]!, 0)}`,
      'files = chunk rows': artifacts.problems.length === 0 ? 'yes' : 'NO',
    });
    expect(both.map((a) => a.status)).toEqual([202, 202]);
    expect(both.flatMap((a) => a.body.retried).sort()).toEqual([failedId]);
    expect(second.body.status).toBe('completed');
    expect(artifacts.problems).toEqual([]);
    expect(Object.fromEntries(work.map((w) => [w.step, Number(w.n)]))).toEqual({ audio: Number(clips!.n), merge: 1 });
    expect(imagesOfFailed.length).toBeGreaterThan(0);
    for (const p of imagesOfFailed) expect(middle[p], p).toEqual(before[p]);
    for (const id of batch.storyIds.slice(1)) {
      for (const p of Object.keys(before).filter((x) => x.includes(id))) expect(middle[p], p).toEqual(before[p]);
    }
    expect(third.status).toBe(202);
    expect(third.body.retried).toEqual([]);
    expect(changedFiles(middle, after)).toEqual([]);
    expect(runsAfter).toEqual(runsMiddle);
    expect(status?.status).toBe('completed');
  });
});
