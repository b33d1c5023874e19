/**
 * A merge or video run that another run of the same step overtook must not touch the story's
 * files. On a busy machine a worker can miss renewing its job's lock; BullMQ then gives the job
 * to a second worker while the first is still in ffmpeg. The second run finishes the step and the
 * story completes; the first one's late output must be discarded, so a finished story's
 * narration.mp3, subtitles and video stay the files the user already has (same bytes, same file).
 *
 * The overtaken run is held at one point of its real ffmpeg work (a gate around the media call)
 * so that the order of events is the same on every run of the test.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MergeStep } from '../../../src/pipeline/steps/merge.step.js';
import { VideoStep } from '../../../src/pipeline/steps/video.step.js';
import { MediaRepository } from '../../../src/repositories/media.repository.js';
import { artifactKeys } from '../../../src/repositories/storage.repository.js';
import { StoryRepository } from '../../../src/repositories/story.repository.js';
import { ChunkStepRunner } from '../../../src/pipeline/steps/chunk-step.runner.js';
import { ProviderRegistry } from '../../../src/providers/registry.js';
import { OrchestratorService } from '../../../src/pipeline/orchestrator.service.js';
import { runBatch } from '../../support/batches.js';
import { localStorageOf, startTestApp, type TestApp } from '../../support/test-app.js';

/** A short story: two clips, two images, a few seconds of narration. */
const STORY = `The Lantern

Mara carried a small lantern up the hill every evening. The wind tried to blow it out, but she held it close.

At the top she set it on a stone, and the ships in the bay turned towards the light and came safely home.
`;

/** What tells one stored file from another: its bytes, and whether it was written again (a new inode or time). */
interface Fingerprint {
  sha256: string;
  ino: number;
  mtimeMs: number;
}

/** The first call of `target[method]` held until the test lets it go: `entered` resolves when it waits. */
function holdFirstCall<T extends object>(target: T, method: keyof T & string) {
  const original = target[method] as (...args: unknown[]) => Promise<unknown>;
  let release!: () => void;
  let entered!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const reached = new Promise<void>((resolve) => (entered = resolve));
  let held = false;
  (target as Record<string, unknown>)[method] = async (...args: unknown[]) => {
    if (!held) {
      held = true;
      entered();
      await gate;
    }
    return original.apply(target, args);
  };
  return {
    entered: reached,
    release,
    restore: () => {
      release();
      (target as Record<string, unknown>)[method] = original;
    },
  };
}

describe('a step run overtaken by another run of the same step', () => {
  let t: TestApp;
  let inputDir: string;
  let storyId: string;
  let restore: (() => void) | undefined;

  beforeAll(async () => {
    // Runs are started by hand below; no reconciler pass may queue the same work for the workers.
    t = await startTestApp({
      database: 'postgres',
      env: { VIDEO_SCALE: '0.25', VIDEO_FPS: '10', VIDEO_CROSSFADE_MS: '300', RECONCILE_INTERVAL_MS: '0' },
    });
    inputDir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-overtaken-'));
    const file = path.join(inputDir, 'lantern.txt');
    await fs.writeFile(file, STORY);
    const batch = await runBatch(t.app, [file], { autoMode: { wordPerChunkImage: 30, wordPerChunkAudio: 25, renderVideo: true } });
    expect(batch.status).toBe('completed');
    storyId = batch.results[0]!.storyId;
  });
  afterEach(() => {
    restore?.();
    restore = undefined;
  });
  afterAll(async () => {
    await t?.close();
    if (inputDir) await fs.rm(inputDir, { recursive: true, force: true });
  });

  async function fingerprints(keys: string[]): Promise<Record<string, Fingerprint>> {
    const storage = localStorageOf(t.app);
    const result: Record<string, Fingerprint> = {};
    for (const key of keys) {
      const file = storage.pathOf(key);
      const stat = await fs.stat(file);
      result[key] = { sha256: createHash('sha256').update(await fs.readFile(file)).digest('hex'), ino: stat.ino, mtimeMs: stat.mtimeMs };
    }
    return result;
  }

  /**
   * Runs `step` twice at once as a stalled job does: the first run is held inside `held`, the
   * second finishes the step and the story completes; then the first run is let go.
   * @returns the files' fingerprints when the story had completed and after the first run ended.
   */
  async function overtake(step: 'merge' | 'video', held: 'normalizeLoudness' | 'renderVideo', keys: string[]) {
    const stories = t.app.get(StoryRepository);
    const run = () => (step === 'merge' ? t.app.get(MergeStep).run(storyId) : t.app.get(VideoStep).run(storyId));
    // The state while the step's job was queued: the story processing, the step's work to do.
    await stories.update(storyId, { status: 'processing', completedAt: null, [step === 'merge' ? 'mergeStep' : 'videoStep']: 'queued' });
    const gate = holdFirstCall(t.app.get(MediaRepository), held);
    restore = gate.restore;
    const overtaken = run();
    await gate.entered;
    await run(); // the run that took the job over
    await t.app.get(OrchestratorService).advance(storyId);
    const finished = await stories.getOrThrow(storyId);
    const atCompletion = await fingerprints(keys);
    gate.release();
    await overtaken;
    return { finished, atCompletion, after: await fingerprints(keys), story: await stories.getOrThrow(storyId) };
  }

  it('merge: the finished story keeps its narration.mp3 and subtitles byte for byte, unrewritten', async () => {
    const keys = [artifactKeys.narration(storyId), artifactKeys.subtitles(storyId, 'srt'), artifactKeys.subtitles(storyId, 'vtt')];
    const { finished, atCompletion, after, story } = await overtake('merge', 'normalizeLoudness', keys);
    expect(finished).toMatchObject({ status: 'completed', mergeStep: 'completed' });
    expect(after).toEqual(atCompletion);
    expect(story).toMatchObject({ status: 'completed', mergeStep: 'completed', narrationKey: keys[0], subtitlesKey: keys[1] });
    expect(story.metadata.narration).toEqual(finished.metadata.narration);
  });

  it('video: the finished story keeps its video.mp4 byte for byte, unrewritten', async () => {
    const keys = [artifactKeys.video(storyId), artifactKeys.subtitles(storyId, 'srt')];
    const { finished, atCompletion, after, story } = await overtake('video', 'renderVideo', keys);
    expect(finished).toMatchObject({ status: 'completed', videoStep: 'completed' });
    expect(after).toEqual(atCompletion);
    expect(story).toMatchObject({ status: 'completed', videoStep: 'completed', videoKey: keys[0] });
    expect(story.metadata.video).toEqual(finished.metadata.video);
  });

  it.each(['audio', 'images'] as const)('%s chunk: the finished story keeps every chunk file, none replaced or removed', async (step) => {
    const stories = t.app.get(StoryRepository);
    const storage = localStorageOf(t.app);
    const folder = step === 'audio' ? artifactKeys.audioFolder(storyId) : artifactKeys.imagesFolder(storyId);
    const chunks = step === 'audio' ? await stories.audioChunks(storyId) : await stories.imageChunks(storyId);
    expect(chunks.length).toBeGreaterThan(1);
    // The state while the first chunk's job was queued, as before the story completed.
    await stories.update(storyId, { status: 'processing', completedAt: null, [step === 'audio' ? 'audioStep' : 'imagesStep']: 'queued' });
    await stories.updateChunk(step, chunks[0]!.id, { status: 'pending' });
    const registry = t.app.get(ProviderRegistry);
    const gate = step === 'audio' ? holdFirstCall(registry.speechSynthesizer(), 'synthesize') : holdFirstCall(registry.imageGenerator(), 'generate');
    restore = gate.restore;
    const run = () => t.app.get(ChunkStepRunner).run(step, storyId, 0);
    const overtaken = run();
    await gate.entered;
    expect(await run()).toBe(true); // the run that took the job over finishes the chunk and the step
    await t.app.get(OrchestratorService).advance(storyId);
    const finished = await stories.getOrThrow(storyId);
    const keys = await storage.list(folder);
    const atCompletion = await fingerprints(keys);
    gate.release();
    expect(await overtaken).toBe(false);
    expect(finished.status).toBe('completed');
    expect(await storage.list(folder)).toEqual(keys);
    expect(await fingerprints(keys)).toEqual(atCompletion);
    expect(keys).toHaveLength(chunks.length);
  });
});
