import { describe, expect, it } from 'vitest';
import type { Story } from '../../../src/db/schema.js';
import { currentStep, storyFraction, summarizeBatch, type StoryProgressInput } from '../../../src/dtos/batch-progress.js';

const base: Story = {
  id: 's1',
  userId: 'u',
  batchId: 'b',
  uploadId: 'up1',
  position: 0,
  title: null,
  originalContent: 'x',
  generatedContent: null,
  customPrompt: null,
  style: {},
  language: null,
  autoMode: { enabled: true, generateImages: true, generateAudio: true, mergeAudio: true, wordPerChunkImage: 100, wordPerChunkAudio: 50 },
  providers: {},
  status: 'processing',
  storyStep: 'pending',
  imagesStep: 'pending',
  audioStep: 'pending',
  mergeStep: 'pending',
  videoStep: 'skipped',
  narrationKey: null,
  subtitlesKey: null,
  videoKey: null,
  metadata: {},
  error: null,
  failedStep: null,
  generation: 0,
  startedAt: null,
  completedAt: null,
  createdAt: new Date(),
  updatedAt: new Date(),
};

const input = (story: Partial<Story>, images = { done: 0, total: 0 }, audio = { done: 0, total: 0 }): StoryProgressInput => ({
  story: { ...base, ...story },
  fileName: `${story.id ?? 's1'}.txt`,
  images,
  audio,
});

describe('story and batch progress', () => {
  it('counts finished chunks of images and audio, and skipped steps not at all', () => {
    // story done (1) + images 2/4 (0.5) + audio 1/4 (0.25) + merge 0, of 4 steps.
    expect(storyFraction(input({ storyStep: 'completed', imagesStep: 'running', audioStep: 'running' }, { done: 2, total: 4 }, { done: 1, total: 4 }))).toBeCloseTo(1.75 / 4);
    // Images and merge skipped: story done + audio 1/2, of 2 steps.
    expect(storyFraction(input({ storyStep: 'completed', imagesStep: 'skipped', audioStep: 'running', mergeStep: 'skipped' }, undefined, { done: 1, total: 2 }))).toBeCloseTo(0.75);
    expect(storyFraction(input({ status: 'failed', storyStep: 'failed' }))).toBe(1);
  });

  it('names the running step, else the queued one', () => {
    expect(currentStep({ ...base, storyStep: 'completed', imagesStep: 'queued', audioStep: 'running' })).toBe('audio');
    expect(currentStep({ ...base, storyStep: 'completed', imagesStep: 'queued' })).toBe('images');
    expect(currentStep({ ...base, status: 'completed', storyStep: 'completed', imagesStep: 'completed', audioStep: 'completed', mergeStep: 'completed' })).toBeUndefined();
  });

  it('is not completed while any story still has work, and never shows 100 % before the end', () => {
    const summary = summarizeBatch(
      [
        input({ id: 'a', status: 'completed', storyStep: 'completed', imagesStep: 'completed', audioStep: 'completed', mergeStep: 'completed' }),
        input({ id: 'b', storyStep: 'completed', imagesStep: 'completed', audioStep: 'completed', mergeStep: 'running' }),
      ],
      new Date(),
    );
    expect(summary).toMatchObject({ finished: false, status: 'processing', processedFiles: 1, failedFiles: 0 });
    expect(summary.progress).toEqual({ percentage: 87, currentFile: 'b.txt', currentStep: 'merge' });
  });

  it('ends completed, partially_completed or failed from the stories, with each failure named', () => {
    const started = new Date(Date.now() - 5000);
    const done = input({ id: 'a', status: 'completed', completedAt: new Date(started.getTime() + 3000) });
    const failed = input({ id: 'b', status: 'failed', failedStep: 'audio', error: 'no voice' });
    expect(summarizeBatch([done], started).status).toBe('completed');
    expect(summarizeBatch([failed], started).status).toBe('failed');
    const partial = summarizeBatch([done, failed], started);
    expect(partial).toMatchObject({ finished: true, status: 'partially_completed', processedFiles: 1, failedFiles: 1 });
    expect(partial.progress.percentage).toBe(100);
    expect(partial.results).toEqual([
      { file: 'a.txt', uploadId: 'up1', storyId: 'a', status: 'completed', processingTime: 3000 },
      { file: 'b.txt', uploadId: 'up1', storyId: 'b', status: 'failed', failedStep: 'audio', error: 'no voice' },
    ]);
  });
});
