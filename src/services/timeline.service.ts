import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { Story } from '../db/schema.js';
import { groupWords, toWordVtt } from '../media/captions.js';
import { buildCues, type SubtitleCue, toSrt, toVtt } from '../media/subtitles.js';
import { buildTimeline, type Timeline } from '../media/timeline.js';
import { artifactKeys, StorageRepository } from '../repositories/storage.repository.js';
import { StoryRepository } from '../repositories/story.repository.js';

export interface StorySubtitles {
  timeline: Timeline;
  cues: SubtitleCue[];
  /** Timeline end minus the decoded narration's length, ms. */
  driftMs: number;
}

/**
 * A story's narration timeline (clips, sentences and images in narration time) and its subtitles,
 * from the chunks in the database: clips by their decoded durations and the pause the merge used,
 * sentences by spoken length, images by the text they illustrate. See `media/timeline.ts`.
 */
@Injectable()
export class TimelineService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly stories: StoryRepository,
    private readonly storage: StorageRepository,
  ) {}

  /** The timeline of a story whose audio chunks are finished (their durations are known). */
  async timeline(story: Story): Promise<Timeline> {
    const [audio, images] = await Promise.all([this.stories.audioChunks(story.id), this.stories.imageChunks(story.id)]);
    const unfinished = audio.filter((chunk) => chunk.durationMs === null);
    if (unfinished.length) {
      throw new Error(`Audio chunks ${unfinished.map((c) => c.index + 1).join(', ')} have no measured duration yet`);
    }
    return buildTimeline({
      content: story.generatedContent ?? '',
      language: story.language ?? this.config.defaults.language,
      pauseMs: story.metadata.narration?.pauseMs ?? this.config.narration.pauseMs,
      clips: audio.map((chunk) => ({ text: chunk.text, durationMs: chunk.durationMs!, words: chunk.words?.words })),
      images: images.map((chunk) => ({ index: chunk.index, text: chunk.text })),
    });
  }

  /** Sentence cues (written form, at most two lines of 42 characters) inside the narration's decoded length. */
  async subtitles(story: Story, narrationDurationMs: number): Promise<StorySubtitles> {
    const timeline = await this.timeline(story);
    const cues = buildCues(timeline.sentences, {
      durationMs: narrationDurationMs,
      language: story.language ?? this.config.defaults.language,
    });
    return { timeline, cues, driftMs: timeline.durationMs - narrationDurationMs };
  }

  /**
   * Writes `subtitles.srt`, `subtitles.vtt` and (when the clips have word timings)
   * `subtitles.words.vtt` under the story's deterministic keys and records them on the story
   * (key, cue count, word count, drift).
   */
  async writeSubtitles(story: Story, narrationDurationMs: number): Promise<StorySubtitles> {
    const result = await this.subtitles(story, narrationDurationMs);
    const srtKey = artifactKeys.subtitles(story.id, 'srt');
    await this.storage.write(srtKey, Buffer.from(toSrt(result.cues), 'utf8'));
    await this.storage.write(artifactKeys.subtitles(story.id, 'vtt'), Buffer.from(toVtt(result.cues, story.language ?? undefined), 'utf8'));
    const groups = groupWords(result.timeline.words, { durationMs: narrationDurationMs });
    const wordsKey = artifactKeys.wordSubtitles(story.id);
    if (groups.length) await this.storage.write(wordsKey, Buffer.from(toWordVtt(groups, story.language ?? undefined), 'utf8'));
    else await this.storage.remove(wordsKey);
    await this.stories.update(story.id, { subtitlesKey: srtKey });
    await this.stories.mergeMetadata(story.id, {
      subtitles: {
        cues: result.cues.length,
        timelineDurationMs: Math.round(result.timeline.durationMs),
        driftMs: Math.round(result.driftMs * 10) / 10,
        words: result.timeline.words.length,
      },
    });
    return result;
  }
}
