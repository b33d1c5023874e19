import { describe, expect, it } from 'vitest';
import { STEPS } from '../../../src/db/schema.js';
import { dependentSteps, PIPELINE_STEPS, stepOfQueue, storyJobs } from '../../../src/pipeline/catalog.js';
import { InvalidJobPayloadError, jobIdFor, parseJobPayload, QUEUE_NAMES } from '../../../src/repositories/job-catalog.js';

describe('pipeline catalog', () => {
  it('describes every step once, in the order a story runs them', () => {
    expect(PIPELINE_STEPS.map((step) => step.name)).toEqual([...STEPS]);
    expect(new Set(PIPELINE_STEPS.map((step) => step.queue)).size).toBe(PIPELINE_STEPS.length);
  });

  it('lists a step only after the steps it needs', () => {
    PIPELINE_STEPS.forEach((step, index) => {
      for (const need of step.needs) expect(PIPELINE_STEPS.findIndex((s) => s.name === need)).toBeLessThan(index);
    });
  });

  it('runs every queue: a step, or orchestration', () => {
    for (const queue of QUEUE_NAMES) {
      expect(stepOfQueue(queue) !== undefined || queue === 'batch-stories' || queue === 'auto-mode').toBe(true);
    }
  });

  it('re-runs what is made from a regenerated chunk', () => {
    expect(dependentSteps('images')).toEqual(['video']);
    expect(dependentSteps('audio')).toEqual(['merge', 'video']);
    expect(dependentSteps('video')).toEqual([]);
  });

  it("lists every job a story can have, with the chunk jobs of each kind", () => {
    const ids = storyJobs('s1', { images: [0, 1], audio: [0] }).map((job) => jobIdFor(job.queue, job.data));
    expect(ids).toEqual([
      'story.s1',
      'image.s1.0',
      'image.s1.1',
      'audio.s1.0',
      'merge.s1',
      'video.s1',
      ...STEPS.map((step) => `auto.s1.${step}`),
    ]);
  });
});

describe('job payloads', () => {
  it('accepts a payload of its queue', () => {
    expect(parseJobPayload('image-generation', 'image.s1.0', { storyId: 's1', chunkIndex: 0 })).toEqual({ storyId: 's1', chunkIndex: 0 });
    expect(parseJobPayload('auto-mode', 'auto.s1.merge', { storyId: 's1', after: 'merge' })).toEqual({ storyId: 's1', after: 'merge' });
  });

  it.each([
    ['image-generation', { storyId: 's1' }, /chunkIndex/],
    ['image-generation', { storyId: 's1', chunkIndex: -1 }, /chunkIndex/],
    ['image-generation', { storyId: 's1', chunkIndex: '2' }, /chunkIndex/],
    ['story-generation', { storyId: '' }, /storyId/],
    ['story-generation', null, /payload/],
    ['story-generation', { storyId: 's1', extra: 1 }, /extra/],
    ['auto-mode', { storyId: 's1', after: 'thumbnail' }, /after/],
    ['batch-stories', { storyId: 's1' }, /batchId/],
  ] as const)('refuses a malformed %s payload %j, naming what is wrong', (queue, data, field) => {
    expect(() => parseJobPayload(queue, 'job-1', data)).toThrow(InvalidJobPayloadError);
    expect(() => parseJobPayload(queue, 'job-1', data)).toThrow(field);
    expect(() => parseJobPayload(queue, 'job-1', data)).toThrow(new RegExp(`Job job-1 of queue ${queue}`));
  });
});
