import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { Story, StoryMetadata } from '../db/schema.js';
import { groupWords, toWordVtt } from '../media/captions.js';
import { buildCues, type SubtitleCue, toSrt, toVtt } from '../media/subtitles.js';
import { buildTimeline, type Timeline } from '../media/timeline.js';
import { artifactKeys } from '../repositories/storage.repository.js';
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
   * The subtitle files of a story timed on a narration of `narrationDurationMs`: `subtitles.srt`
   * and `subtitles.vtt` (and `subtitles.words.vtt` when the clips have word timings) under the story's
   * deterministic keys (UTF-8 bytes), the keys of files an earlier narration left that this one
   * does not have (`staleKeys`: remove them with the new files), the key recorded on the
   * story (the SRT's), and the metadata to record (cue count, drift). Nothing is written here: the
   * step that made the narration writes them with it (StoryRepository.completeStepWithOutput).
   */
  async subtitleFiles(
    story: Story,
    narrationDurationMs: number,
  ): Promise<{ result: StorySubtitles; files: Array<{ key: string; bytes: Buffer }>; staleKeys: string[]; subtitlesKey: string; metadata: StoryMetadata }> {
    const result = await this.subtitles(story, narrationDurationMs);
    const subtitlesKey = artifactKeys.subtitles(story.id, 'srt');
    const groups = groupWords(result.timeline.words, { durationMs: narrationDurationMs });
    const files = [
      { key: subtitlesKey, bytes: Buffer.from(toSrt(result.cues), 'utf8') },
      { key: artifactKeys.subtitles(story.id, 'vtt'), bytes: Buffer.from(toVtt(result.cues, story.language ?? undefined), 'utf8') },
    ];
    if (groups.length) files.push({ key: artifactKeys.wordSubtitles(story.id), bytes: Buffer.from(toWordVtt(groups, story.language ?? undefined), 'utf8') });
    return {
      result,
      subtitlesKey,
      files,
      // Made before without word timings now: an earlier narration's word captions would not match this one.
      staleKeys: groups.length ? [] : [artifactKeys.wordSubtitles(story.id)],
      metadata: {
        subtitles: {
          cues: result.cues.length,
          timelineDurationMs: Math.round(result.timeline.durationMs),
          driftMs: Math.round(result.driftMs * 10) / 10,
          words: result.timeline.words.length,
        },
      },
    };
  }
}
