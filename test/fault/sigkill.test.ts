/**
 * Fault suite: a worker process SIGKILLed in the middle of each step (story, images, audio,
 * merge), several trials each. The worker that holds the work is found from the evidence (the
 * provider call it has in flight, or the ffmpeg it is running) and killed as soon as the database
 * shows the step running; a replacement worker is started. Every batch must complete, with
 * exactly one file per chunk row and a narration for every story.
 *
 * `FAULT_KILL_TRIALS` (default 3) sets the trials per step.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { FakeRoute } from '../support/fake-openai-server.js';
import {
  type CliProcess,
  FaultStack,
  medianMax,
  printTable,
  sleep,
  storyFiles,
} from '../support/fault-harness.js';

const TRIALS = Number(process.env.FAULT_KILL_TRIALS ?? 3);

type Step = 'story' | 'images' | 'audio' | 'merge';

interface StepSetup {
  /** Route whose in-flight call identifies the worker holding the step (none for merge: ffmpeg does). */
  route?: FakeRoute;
  latencyMs: Partial<Record<FakeRoute, number>>;
  /** Stories per batch and words per story. */
  stories: number;
  words: number;
}

// Latency keeps each step busy long enough to be killed in the middle; merge is local ffmpeg work,
// made long by a longer narration (the fake speech is 1/15 s per character).
const SETUPS: Record<Step, StepSetup> = {
  story: { route: 'chat', latencyMs: { chat: 1500, images: 100, speech: 100 }, stories: 2, words: 90 },
  images: { route: 'images', latencyMs: { chat: 100, images: 900, speech: 100 }, stories: 2, words: 120 },
  audio: { route: 'speech', latencyMs: { chat: 100, images: 100, speech: 700 }, stories: 2, words: 120 },
  merge: { latencyMs: { chat: 50, images: 50, speech: 50 }, stories: 2, words: 260 },
};

/** The merge's temporary folder in a worker's scratch space (src/shared/scratch.ts). */
const MERGE_FOLDER = /storyforge-scratch-[^/\s]+\/merge-/;

const COLUMN: Record<Step, string> = { story: 'story_step', images: 'images_step', audio: 'audio_step', merge: 'merge_step' };

const figures: Record<string, string | number | boolean | undefined>[] = [];

afterAll(() => {
  printTable('SIGKILL during a step: one row per trial', figures);
  const byStep = (['story', 'images', 'audio', 'merge'] as Step[]).map((step) => {
    const rows = figures.filter((r) => r.step === step);
    return {
      step,
      trials: rows.length,
      'kills mid-step': rows.filter((r) => r.midStep).length,
      'batches completed': rows.filter((r) => r.batch === 'completed').length,
      'recovered after ms (median/max)': medianMax(rows.map((r) => Number(r.recoveredAfterMs)).filter((n) => n >= 0)),
      'batch ms (median/max)': medianMax(rows.map((r) => Number(r.batchMs))),
      'files = chunk rows': rows.every((r) => r.exact) ? 'yes, every story' : 'NO',
    };
  });
  printTable('SIGKILL summary', byStep);
});

describe('a worker SIGKILLed in the middle of a step', () => {
  // One deployment for the four steps (trials run one after another, each on a batch of its own);
  // each step's latency is set per request by the fault injector.
  let stack: FaultStack;
  let lastBatch: string | undefined;
  beforeAll(async () => {
    stack = await FaultStack.create({ label: 'sigkill' });
    await Promise.all([stack.startApi(), stack.startWorker(), stack.startWorker()]);
    await stack.signIn();
  });
  afterAll(async () => {
    await stack?.close();
  });

  for (const step of ['story', 'images', 'audio', 'merge'] as Step[]) {
    const setup = SETUPS[step];
    it(`during ${step}: every batch completes with one file per chunk (${TRIALS} trials)`, async () => {
      onTestFailed(async () => console.error(await stack.diagnostics(lastBatch)));
      stack.fake.setFaultInjector((_request, { route }) => ({ kind: 'default', delayMs: setup.latencyMs[route] ?? 0 }));
      const chunkCounts = new Map<string, string>();
      const results: { status: string; problems: string[] }[] = [];
      for (let trial = 1; trial <= TRIALS; trial++) {
        // The same stories every trial: their chunk counts must come out the same every time.
        const files = storyFiles(setup.stories, setup.words, 0);
        const batch = await stack.submitBatch(files, { autoMode: { wordPerChunkImage: 40, wordPerChunkAudio: 30 } });
        lastBatch = batch.batchId;

        // As soon as the database shows the step running on a story of this batch …
        const [running] = await stack.waitForRows<{ id: string }>(
          `SELECT id FROM stories WHERE batch_id = $1 AND ${COLUMN[step]} = 'running' ORDER BY position LIMIT 1`,
          [batch.batchId],
          { timeoutMs: 60_000, pollMs: 25, what: `${step} step running` },
        );
        // … find the worker that holds the work: its provider call in flight, or its ffmpeg.
        const found = await stack.until(
          async () => {
            if (setup.route) {
              const caller = stack.latestCaller(setup.route, batch.submittedAt);
              if (!caller) return undefined;
              const hero = batch.heroes.find((h) => caller.request.rawBody.includes(h));
              const storyId = hero ? batch.storyIds[batch.heroes.indexOf(hero)]! : running!.id;
              const inFlight = Date.now() - caller.request.receivedAt < setup.latencyMs[setup.route]! - 50;
              return { worker: caller.worker, storyId, evidence: `${setup.route} call ${caller.request.id} in flight: ${inFlight}` };
            }
            // The merge's own media work: ffmpeg in a merge folder, or probing the clips of a story
            // whose merge runs (its audio step is over, so nothing else reads them).
            const merging = (
              await stack.sql<{ id: string }>(`SELECT id FROM stories WHERE batch_id = $1 AND merge_step = 'running'`, [batch.batchId])
            ).map((r) => r.id);
            const media = stack
              .workersRunningMedia()
              .map((m) => ({ ...m, storyId: merging.find((id) => m.args.includes(`stories/${id}/audio/`)) }))
              // Odd trials kill at the first sign of the merge, even ones during ffmpeg's join or loudness passes.
              .find((m) => MERGE_FOLDER.test(m.args) || (trial % 2 === 1 && m.storyId));
            if (!media) return undefined;
            const what = MERGE_FOLDER.test(media.args) ? 'joining / loudness in the merge folder' : 'probing the clips';
            return { worker: media.worker, storyId: media.storyId ?? running!.id, evidence: `merge ${media.program} running (${what})` };
          },
          5_000,
          `the worker holding the ${step} step`,
          setup.route ? 25 : 10,
        );
        const killedAt = Date.now();
        await stack.kill(found.worker, 'SIGKILL');
        const [after] = await stack.sql(`SELECT ${COLUMN[step]} AS state FROM stories WHERE id = $1`, [found.storyId]);
        const replacement: Promise<CliProcess> = stack.startWorker();
        await replacement;
        const end = await stack.waitForBatchEnd(batch.batchId, { timeoutMs: 120_000, since: batch.submittedAt });

        // The runs the killed worker left unfinished, and how soon each of their jobs ran again.
        const orphans = await stack.sql<{ job_id: string; chunk_index: number | null; again: Date | null }>(
          `SELECT r.job_id, r.chunk_index,
             (SELECT min(n.started_at) FROM step_runs n WHERE n.job_id = r.job_id AND n.started_at > to_timestamp($3 / 1000.0)) AS again
           FROM step_runs r JOIN stories s ON s.id = r.story_id
           WHERE s.batch_id = $1 AND r.step = $2 AND r.started_at < to_timestamp($3 / 1000.0) AND r.status <> 'completed'
             AND (r.finished_at IS NULL OR r.finished_at > to_timestamp($3 / 1000.0))`,
          [batch.batchId, step, killedAt],
        );
        const recovered = orphans.length && orphans.every((o) => o.again) ? Math.max(...orphans.map((o) => o.again!.getTime() - killedAt)) : -1;
        const midStep = after.state === 'running' && orphans.length > 0;
        const artifacts = await stack.checkArtifacts(batch.storyIds, batch.heroes);
        // The killed worker's temporary media files were removed by the worker that replaced it.
        const scratch = path.join(os.tmpdir(), `storyforge-scratch-${os.hostname()}-${found.worker.pid}`);
        const scratchLeft = await fs.access(scratch).then(() => true, () => false);
        if (scratchLeft) artifacts.problems.push(`the killed worker's scratch folder ${scratch} is still there`);
        for (const story of artifacts.stories) {
          const counts = `${story.images.rows} images / ${story.audio.rows} clips`;
          const seen = chunkCounts.get(story.hero!);
          if (seen && seen !== counts) artifacts.problems.push(`story ${story.hero}: ${counts} this trial, ${seen} before`);
          chunkCounts.set(story.hero!, counts);
        }
        results.push({ status: end.body.status, problems: artifacts.problems });
        figures.push({
          step,
          trial,
          killed: `${found.worker.name} (${found.evidence})`,
          'jobs cut': orphans.length,
          midStep,
          recoveredAfterMs: recovered,
          batchMs: end.elapsedMs,
          batch: end.body.status,
          'images files/rows': artifacts.stories.map((s) => `${s.images.files.length}/${s.images.rows}`).join(' '),
          'clips files/rows': artifacts.stories.map((s) => `${s.audio.files.length}/${s.audio.rows}`).join(' '),
          narration: artifacts.stories.every((s) => s.narration),
          exact: artifacts.problems.length === 0,
        });
        if (artifacts.problems.length || end.body.status !== 'completed') {
          console.error(`trial ${trial} of ${step}:\n  ${artifacts.problems.join('\n  ')}\n${await stack.diagnostics(batch.batchId)}`);
        }
        await sleep(200);
      }
      expect(results.map((r) => r.status)).toEqual(Array(TRIALS).fill('completed'));
      expect(results.flatMap((r) => r.problems)).toEqual([]);
      // The suite must have tested what it claims: at least one kill landed in the middle of the step.
      expect(figures.filter((r) => r.step === step && r.midStep).length).toBeGreaterThanOrEqual(1);
    });
  }
});
