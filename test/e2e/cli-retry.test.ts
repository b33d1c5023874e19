import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli, startCli, stopCli, stopClis } from '../support/cli.js';
import { FakeOpenAiServer } from '../support/fake-openai-server.js';
import { shortSample } from '../support/samples.js';

/** Size and modification time of every file under a folder, by relative path. */
async function fileStamps(root: string): Promise<Record<string, string>> {
  const stamps: Record<string, string> = {};
  for (const entry of await fs.readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const stat = await fs.stat(file);
    stamps[path.relative(root, file)] = `${stat.size}@${stat.mtimeMs}`;
  }
  return stamps;
}

/**
 * `storyforge retry` as a user runs it after a run where the story writer was down for one story:
 * a separate process, embedded PGlite, real Redis, ffmpeg and espeak-ng, the story writer on a local
 * server that speaks OpenAI's wire format.
 */
describe('storyforge retry', () => {
  const server = new FakeOpenAiServer();
  let dir: string;
  let dataDir: string;
  let env: Record<string, string>;
  let test = 0;
  let baseUrl: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-retry-'));
    ({ baseUrl } = await server.start());
  });
  // Each test has its own embedded database, so that a run a failed test left behind (stopped
  // in afterEach) cannot hold the next test's data directory.
  beforeEach(() => {
    test += 1;
    dataDir = path.join(dir, `data-${test}`);
    env = {
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      STORY_WRITER: 'openai-compatible',
      OPENAI_BASE_URL: baseUrl,
      OPENAI_API_KEY: 'sk-test',
      JOB_ATTEMPTS: '2',
      JOB_BACKOFF_MS: '100',
    };
  });
  afterEach(async () => {
    await stopClis();
    server.setFaultInjector(undefined);
  });
  afterAll(async () => {
    await stopClis();
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('re-runs only the story that failed, keeps the other one as it was, and does nothing the second time', async () => {
    // The story writer answers 503 for the Frog Prince only.
    server.setFaultInjector((request, { route }) =>
      route === 'chat' && request.rawBody.includes('FROG-PRINCE') ? { kind: 'error', status: 503, message: 'The server is overloaded' } : undefined,
    );
    const files = [await shortSample('stories/en/en_grimm_frog_prince.txt', dir), await shortSample('stories/vi/vi_su_tich_cay_thi_la.txt', dir)];
    const first = await runCli(['run', ...files, '--out', path.join(dir, 'out1'), '--no-images'], env);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/✗ en_grimm_frog_prince\.txt: failed at story: .*HTTP 503/);
    const batchJson = JSON.parse(await fs.readFile(path.join(dir, 'out1', 'batch.json'), 'utf8'));
    const batchId: string = batchJson.batches[0].id;
    expect(batchJson.batches[0].status).toBe('partially_completed');
    expect(first.stdout).toContain(`storyforge retry ${batchId}`);
    const doneStory = batchJson.batches[0].results.find((r: { status: string }) => r.status === 'completed');
    const storyFiles = path.join(dataDir, 'files', 'stories', doneStory.storyId);
    const before = await fileStamps(storyFiles);
    expect(Object.keys(before)).toContain('narration.mp3');
    const chatCallsAfterRun = server.requestsTo('chat').length;

    server.setFaultInjector(undefined);
    const retried = await runCli(['retry', batchId, '--out', path.join(dir, 'out2')], env);
    expect(retried.stderr).not.toMatch(/✗/);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toContain(`Batch ${batchId}: retrying 1 of 2 stories`);
    const after = JSON.parse(await fs.readFile(path.join(dir, 'out2', 'batch.json'), 'utf8'));
    expect(after.batches[0]).toMatchObject({ id: batchId, status: 'completed', processedFiles: 2, failedFiles: 0 });
    // Only the failed story asked the writer again; the other story's files were not touched.
    expect(server.requestsTo('chat').slice(chatCallsAfterRun).every((r) => r.rawBody.includes('FROG-PRINCE'))).toBe(true);
    expect(await fileStamps(storyFiles)).toEqual(before);
    const frog = JSON.parse(await fs.readFile(path.join(dir, 'out2', 'en_grimm_frog_prince', 'story.json'), 'utf8'));
    expect(frog.status).toBe('completed');
    expect(await fs.readdir(path.join(dir, 'out2', 'en_grimm_frog_prince', 'audio'))).toHaveLength(frog.audio.length);

    const chatCallsAfterRetry = server.requestsTo('chat').length;
    const again = await runCli(['retry', batchId, '--out', path.join(dir, 'out3')], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`Batch ${batchId}: nothing to retry (completed)`);
    expect(server.requestsTo('chat')).toHaveLength(chatCallsAfterRetry);
    expect(await fileStamps(storyFiles)).toEqual(before);
  }, 120_000); // three processes one after another (run, retry, retry), each opening the embedded database

  it('cancels the batch on Ctrl-C, says how to continue, and retry finishes it from where it stopped', async () => {
    // Every speech call is slow, so the run is still working when it is interrupted.
    server.setFaultInjector((_request, { route }) => (route === 'speech' ? { kind: 'default', delayMs: 1500 } : undefined));
    const out = path.join(dir, 'interrupted');
    const input = await shortSample('stories/vi/vi_su_tich_cay_thi_la.txt', dir, 8);
    const run = startCli(['run', input, '--out', out, '--no-images'], { ...env, SPEECH_SYNTHESIZER: 'openai-compatible' });
    // Interrupt once the first clip has been asked for.
    const speechBefore = server.requestsTo('speech').length;
    for (let waited = 0; server.requestsTo('speech').length === speechBefore; waited += 100) {
      if (waited > 60_000) throw new Error(`the run never asked for speech: ${run.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await stopCli(run, 'SIGINT')).toBe(130);
    const hint = /To finish them: storyforge retry ([0-9a-f-]{36})/.exec(run.stderr());
    expect(hint, run.stderr()).not.toBeNull();

    server.setFaultInjector(undefined);
    const resumed = await runCli(['retry', hint![1]!, '--out', out], { ...env, SPEECH_SYNTHESIZER: 'openai-compatible' });
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`Batch ${hint![1]}: retrying 1 of 1 stories`);
    const story = JSON.parse(await fs.readFile(path.join(out, 'vi_su_tich_cay_thi_la', 'story.json'), 'utf8'));
    expect(story.status).toBe('completed');
    expect(await fs.readdir(path.join(out, 'vi_su_tich_cay_thi_la', 'audio'))).toHaveLength(story.audio.length);
  }, 240_000); // a storyforge process on the embedded database, which opens slowly on a busy machine

  it('says what is wrong with a batch id, and exits 2', async () => {
    const malformed = await runCli(['retry', 'not-a-batch', '--out', path.join(dir, 'bad')], env);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('Not a batch id: not-a-batch');
    const unknown = await runCli(['retry', '00000000-0000-4000-8000-000000000000', '--out', path.join(dir, 'bad')], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Batch 00000000-0000-4000-8000-000000000000 is not in the embedded database in .*Use the same DATA_DIR/);
  });
});
