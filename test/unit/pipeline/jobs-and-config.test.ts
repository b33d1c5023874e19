import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { jobIdFor, QUEUE_NAMES } from '../../../src/repositories/job-catalog.js';
import { redisOptionsFromUrl } from '../../../src/repositories/queue.repository.js';
import { artifactKeys } from '../../../src/repositories/storage.repository.js';
import { folderName } from '../../../src/services/export.service.js';
import { requestedSteps } from '../../../src/services/requested-steps.js';

describe('job catalog', () => {
  it('keeps the seed queue names, plus video-render', () => {
    expect(QUEUE_NAMES).toEqual(['batch-stories', 'story-generation', 'image-generation', 'audio-generation', 'audio-merge', 'video-render', 'auto-mode']);
  });

  it('gives the same work the same id, and different work different ids, without ":"', () => {
    const ids = [
      jobIdFor('batch-stories', { batchId: 'b1' }),
      jobIdFor('story-generation', { storyId: 's1' }),
      jobIdFor('image-generation', { storyId: 's1', chunkIndex: 0 }),
      jobIdFor('image-generation', { storyId: 's1', chunkIndex: 1 }),
      jobIdFor('audio-generation', { storyId: 's1', chunkIndex: 0 }),
      jobIdFor('audio-merge', { storyId: 's1' }),
      jobIdFor('video-render', { storyId: 's1' }),
      jobIdFor('auto-mode', { storyId: 's1', after: 'images' }),
      jobIdFor('auto-mode', { storyId: 's1', after: 'audio' }),
    ];
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => !id.includes(':'))).toBe(true);
    expect(jobIdFor('image-generation', { storyId: 's1', chunkIndex: 1 })).toBe(ids[3]);
  });

  it('keys artifacts by story and 1-based padded index', () => {
    expect(artifactKeys.image('s1', 0, 'png')).toBe('stories/s1/images/001.png');
    expect(artifactKeys.clip('s1', 11, 'wav')).toBe('stories/s1/audio/012.wav');
    expect(artifactKeys.subtitles('s1', 'vtt')).toBe('stories/s1/subtitles.vtt');
    expect(artifactKeys.video('s1')).toBe('stories/s1/video.mp4');
  });
});

describe('requested steps', () => {
  const auto = { enabled: true, generateImages: true, generateAudio: true, mergeAudio: true, wordPerChunkImage: 1, wordPerChunkAudio: 1 };
  it('merges only when audio is made, and runs only the story step without auto mode', () => {
    expect(requestedSteps(auto)).toEqual({ story: true, images: true, audio: true, merge: true, video: false });
    expect(requestedSteps({ ...auto, generateAudio: false })).toEqual({ story: true, images: true, audio: false, merge: false, video: false });
    expect(requestedSteps({ ...auto, enabled: false })).toEqual({ story: true, images: false, audio: false, merge: false, video: false });
  });

  it('renders a video only when asked and when images and the merged narration are made', () => {
    const video = { ...auto, renderVideo: true };
    expect(requestedSteps(video).video).toBe(true);
    expect(requestedSteps({ ...video, generateImages: false }).video).toBe(false);
    expect(requestedSteps({ ...video, mergeAudio: false }).video).toBe(false);
    expect(requestedSteps({ ...video, enabled: false }).video).toBe(false);
  });
});

describe('configuration', () => {
  it('has offline defaults', () => {
    const config = loadConfig({});
    expect(config.providers).toMatchObject({ storyWriter: 'source', imageGenerator: 'card', speechSynthesizer: 'espeak-ng' });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.narration).toMatchObject({ lufs: -16, sampleRate: 44100 });
    expect(config.video).toMatchObject({ preset: 'veryfast', crf: 23, fps: 25, scale: 1, crossfadeMs: 600 });
    expect(() => loadConfig({ VIDEO_PRESET: 'warp', VIDEO_SCALE: '2' })).toThrow(/VIDEO_PRESET[\s\S]*VIDEO_SCALE/);
  });

  it('names every invalid variable', () => {
    expect(() => loadConfig({ STORY_WRITER: 'gpt', NARRATION_SAMPLE_RATE: '12345', WORD_PER_CHUNK_AUDIO: '0' })).toThrow(
      /STORY_WRITER[\s\S]*WORD_PER_CHUNK_AUDIO[\s\S]*NARRATION_SAMPLE_RATE/,
    );
    // The same language codes as --language: an unknown one is refused at start-up, not per story.
    expect(() => loadConfig({ DEFAULT_LANGUAGE: 'xx' })).toThrow(/DEFAULT_LANGUAGE: must be an ISO 639-1 language code such as vi, en or fr; accepted: aa, ab, /);
    expect(loadConfig({ DEFAULT_LANGUAGE: 'vi' }).defaults.language).toBe('vi');
  });

  it('reads Redis URLs with credentials and database numbers', () => {
    expect(redisOptionsFromUrl('redis://user:p%40ss@cache:6380/2')).toMatchObject({ host: 'cache', port: 6380, username: 'user', password: 'p@ss', db: 2 });
    expect(() => redisOptionsFromUrl('http://cache')).toThrow(/redis:\/\//);
  });
});

describe('output folder names', () => {
  it('keep Vietnamese letters and drop what a path must not hold', () => {
    expect(folderName('Truyện cổ tích.docx')).toBe('Truyện-cổ-tích');
    expect(folderName('../../etc/passwd')).toBe('passwd');
    expect(folderName('a "quoted": name?.txt')).toBe('a-quoted-name');
    expect(folderName('...')).toBe('story');
  });
});
