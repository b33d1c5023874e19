import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactKeys } from '../../../src/repositories/storage.repository.js';
import { StoryRepository } from '../../../src/repositories/story.repository.js';
import { normalizeText, cleanStoryText } from '../../../src/text/normalize.js';
import { splitTitle } from '../../../src/text/title.js';
import { runBatch } from '../../support/batches.js';
import { measureLoudness, probeAudio, probeImage } from '../../support/media-probe.js';
import { sample } from '../../support/samples.js';
import { localStorageOf, startTestApp, type TestApp } from '../../support/test-app.js';

describe('a batch on real Redis and PostgreSQL with the offline providers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ database: 'postgres' });
  });
  afterAll(async () => t?.close());

  it('turns a Vietnamese, an English and a Word file into finished stories', async () => {
    const files = [
      sample('stories/vi/vi_su_tich_ho_ba_be.txt'),
      sample('stories/en/en_grimm_frog_prince.txt'),
      sample('docs/mammoth_tables.docx'),
    ];
    const batch = await runBatch(t.app, files);

    expect(batch.status).toBe('completed');
    expect(batch).toMatchObject({ totalFiles: 3, processedFiles: 3, failedFiles: 0 });
    expect(batch.progress.percentage).toBe(100);
    expect(batch.completedAt).not.toBeNull();
    expect(batch.results.map((r) => [r.file, r.status])).toEqual([
      ['vi_su_tich_ho_ba_be.txt', 'completed'],
      ['en_grimm_frog_prince.txt', 'completed'],
      ['mammoth_tables.docx', 'completed'],
    ]);

    const stories = t.app.get(StoryRepository);
    const storage = localStorageOf(t.app);
    const [vi, en, docx] = await Promise.all(batch.results.map((r) => stories.getOrThrow(r.storyId)));

    // The Vietnamese story is the file's text, detected as Vietnamese and spoken with the vi voice.
    const viText = normalizeText(await fs.readFile(files[0]!, 'utf8'));
    expect(vi!.title).toBe('Sự tích Hồ Ba Bể');
    expect(vi!.generatedContent).toBe(cleanStoryText(splitTitle(viText).body));
    expect(vi!.language).toBe('vi');
    expect(vi!.metadata.languageSource).toBe('detected');
    expect(en!.language).toBe('en');
    expect(docx!.title).toBe('Above');
    expect(docx!.generatedContent).toContain('Top left');
    expect(docx!.generatedContent).toContain('Below');

    for (const story of [vi!, en!, docx!]) {
      expect(story.status).toBe('completed');
      expect([story.storyStep, story.imagesStep, story.audioStep, story.mergeStep]).toEqual(['completed', 'completed', 'completed', 'completed']);
      const images = await stories.imageChunks(story.id);
      const audio = await stories.audioChunks(story.id);
      expect(images.length).toBeGreaterThan(0);
      expect(audio.length).toBeGreaterThanOrEqual(images.length);
      // One file per chunk, no more.
      expect(await storage.list(artifactKeys.imagesFolder(story.id))).toHaveLength(images.length);
      expect(await storage.list(artifactKeys.audioFolder(story.id))).toHaveLength(audio.length);
      const png = await probeImage(storage.pathOf(images[0]!.storageKey!));
      expect(png).toEqual({ width: 1280, height: 720, codec: 'png' });
      expect(images.every((c) => c.placeholder)).toBe(true);

      // Narration: decoded length = clips + pauses, loudness at the target.
      const clipsMs = audio.reduce((sum, c) => sum + c.durationMs!, 0);
      const expectedS = (clipsMs + t.config.narration.pauseMs * (audio.length - 1)) / 1000;
      const narration = await probeAudio(storage.pathOf(story.narrationKey!));
      expect(narration.codec).toBe('mp3');
      expect(narration.sampleRate).toBe(t.config.narration.sampleRate);
      expect(Math.abs(narration.duration - expectedS) / expectedS).toBeLessThan(0.02);
      const loudness = await measureLoudness(storage.pathOf(story.narrationKey!));
      expect({ title: story.title, lufs: Math.abs(loudness.lufs - -16) <= 1 ? 'ok' : loudness.lufs }).toEqual({ title: story.title, lufs: 'ok' });
      expect(loudness.truePeak).toBeLessThanOrEqual(-1);
    }
    expect((await stories.audioChunks(vi!.id))[0]!.voice).toBe('vi');
  }, 240_000);
});
