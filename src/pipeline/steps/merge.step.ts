import fs from 'node:fs/promises';
import path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { EventsRepository } from '../../repositories/events.repository.js';
import { MediaRepository } from '../../repositories/media.repository.js';
import { artifactKeys, StorageRepository } from '../../repositories/storage.repository.js';
import { StoryRepository, storyHasEnded } from '../../repositories/story.repository.js';
import { TimelineService } from '../timeline.service.js';
import { makeScratchDir } from '../../shared/scratch.js';

/**
 * The `merge` step: joins every clip in order (one sample rate, one channel layout, a pause
 * between clips; in this process when the clips share one PCM WAV format), normalises loudness
 * (a measurement, then an encode with a measured gain, aimed again when off), and writes `narration.mp3` under its
 * deterministic key, then `subtitles.srt` / `subtitles.vtt` timed on it. Durations come from the
 * decoded output, never from nominal clip lengths.
 */
@Injectable()
export class MergeStep {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly stories: StoryRepository,
    private readonly storage: StorageRepository,
    private readonly media: MediaRepository,
    private readonly events: EventsRepository,
    private readonly timelines: TimelineService,
  ) {}

  /**
   * Merges the story's clips into narration.mp3 and writes the subtitles. Returns at once when the
   * story has ended, the merge is done, or the step is no longer on (cancelled); a run that finds
   * at its end that the step was finished by another run, or the story ended, discards its output.
   * `signal` aborts ffmpeg (a cancel or a shutdown).
   * @throws Error when a clip is not finished; MediaCommandError when ffmpeg fails.
   */
  async run(storyId: string, signal?: AbortSignal): Promise<void> {
    const story = await this.stories.getOrThrow(storyId);
    if (storyHasEnded(story) || story.mergeStep === 'completed') return;
    const startedAt = performance.now();
    // Claimed only while the step is on (a cancel may have come since the story was read).
    if (!(await this.stories.transitionStep(storyId, 'merge', ['queued', 'pending', 'running'], 'running'))) return;
    this.events.emit({ type: 'step', storyId, batchId: story.batchId, step: 'merge', state: 'started' });

    const chunks = await this.stories.audioChunks(storyId);
    const missing = chunks.filter((chunk) => chunk.status !== 'completed' || !chunk.storageKey);
    if (!chunks.length) throw new Error('The story has no audio clips to merge');
    if (missing.length) {
      throw new Error(`Audio chunks ${missing.map((c) => c.index + 1).join(', ')} are not finished; merge needs all clips`);
    }

    const { pauseMs, lufs, truePeakDb, sampleRate, bitrateKbps } = this.config.narration;
    const dir = await makeScratchDir('merge-');
    let placed: boolean;
    try {
      const joined = path.join(dir, 'joined.wav');
      const narration = path.join(dir, 'narration.mp3');
      // Read where they are on a local folder; fetched into the scratch folder from a bucket.
      const clips = await Promise.all(chunks.map((chunk) => this.storage.localFile(chunk.storageKey!, dir)));
      await this.media.joinClips({
        clips,
        outFile: joined,
        pauseMs,
        sampleRate,
        // Clips of one PCM format are joined in this process at their own rate; the encode resamples.
        clipRate: true,
        signal,
      });
      const loudness = await this.media.normalizeLoudness({
        inFile: joined,
        outFile: narration,
        lufs,
        truePeakDb,
        sampleRate,
        bitrateKbps,
        signal,
      });
      const durationMs = Math.round(await this.media.durationMs(narration));
      const narrationMetadata = {
        durationMs,
        sampleRate,
        lufs,
        truePeakDb,
        measuredInputLufs: loudness.measured.inputI,
        measuredOutputLufs: loudness.output.inputI,
        measuredOutputTruePeakDb: loudness.output.inputTp,
        method: loudness.method,
        pauseMs,
      };
      // Subtitles are timed on this narration: made with it, so every narration has them.
      const subtitles = await this.timelines.subtitleFiles({ ...story, metadata: { ...story.metadata, narration: narrationMetadata } }, durationMs);
      const key = artifactKeys.narration(storyId);
      // Placed only while this run still owns the step: a run overtaken by another (its job's lock
      // expired on a busy machine and a second worker finished the merge) must not replace the
      // files of a story that may have been completed since.
      placed = await this.stories.completeStepWithOutput(
        storyId,
        'merge',
        {
          values: { narrationKey: key, subtitlesKey: subtitles.subtitlesKey },
          metadata: {
            narration: narrationMetadata,
            ...subtitles.metadata,
            stepDurationsMs: { merge: Math.round(performance.now() - startedAt) },
          },
        },
        async () => {
          await this.storage.moveIn(key, narration);
          for (const file of subtitles.files) await this.storage.write(file.key, file.bytes);
          for (const stale of subtitles.staleKeys) await this.storage.remove(stale);
        },
      );
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    if (!placed) return;
    this.events.emit({ type: 'step', storyId, batchId: story.batchId, step: 'merge', state: 'done' });
  }
}
