import fs from 'node:fs/promises';
import path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { groupWords, resolveCaptionStyle } from '../../media/captions.js';
import { chapterTitle, trackLanguage, videoSize, type VideoAspect } from '../../media/video.js';
import { EventsRepository } from '../../repositories/events.repository.js';
import { MediaRepository } from '../../repositories/media.repository.js';
import { artifactKeys, StorageRepository } from '../../repositories/storage.repository.js';
import { StoryRepository, storyHasEnded } from '../../repositories/story.repository.js';
import { PresentationService } from '../presentation.service.js';
import { TimelineService } from '../timeline.service.js';
import { PermanentStepError } from '../step-failure.js';
import { makeScratchDir } from '../../shared/scratch.js';

/**
 * The `video` step: renders `video.mp4` from the story's images and its merged narration. Each
 * image is on screen while its text is spoken (the narration timeline), with a slow camera move
 * and short crossfades; the subtitles are a soft track and, when asked, burned in too. Frame
 * shape from the story's auto mode (`16:9` or `9:16`), size, speed and quality from the
 * configuration. Written under its deterministic key, so a retry overwrites.
 */
@Injectable()
export class VideoStep {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly stories: StoryRepository,
    private readonly storage: StorageRepository,
    private readonly media: MediaRepository,
    private readonly timelines: TimelineService,
    private readonly events: EventsRepository,
    private readonly presentation: PresentationService,
  ) {}

  /**
   * Renders video.mp4 from the images, the narration and the subtitles. Returns at once when the
   * story has ended, the video is done, or the step is no longer on (cancelled); a run that finds
   * at its end that the step was finished by another run, or the story ended, discards its render.
   * `signal` aborts ffmpeg (a cancel or a shutdown).
   * @throws PermanentStepError when the configuration cannot work (a font file for burned-in
   * subtitles); MediaCommandError when ffmpeg fails.
   */
  async run(storyId: string, signal?: AbortSignal): Promise<void> {
    const story = await this.stories.getOrThrow(storyId);
    if (storyHasEnded(story) || story.videoStep === 'completed') return;
    const startedAt = performance.now();
    // Claimed only while the step is on (a cancel may have come since the story was read).
    if (!(await this.stories.transitionStep(storyId, 'video', ['queued', 'pending', 'running'], 'running'))) return;
    this.events.emit({ type: 'step', storyId, batchId: story.batchId, step: 'video', state: 'started' });

    if (!story.narrationKey || !(await this.storage.exists(story.narrationKey))) {
      throw new Error('The story has no merged narration; the video needs it');
    }
    const chunks = await this.stories.imageChunks(storyId);
    const missing = chunks.filter((chunk) => chunk.status !== 'completed' || !chunk.storageKey);
    if (!chunks.length) throw new Error('The story has no images; the video needs them');
    if (missing.length) throw new Error(`Images ${missing.map((c) => c.index + 1).join(', ')} are not finished; the video needs all`);

    const dir = await makeScratchDir('render-');
    let placed: boolean;
    try {
      // Inputs are read where they are on a local folder; fetched into the scratch folder from a bucket.
      const narrationFile = await this.storage.localFile(story.narrationKey, dir);
      const durationMs = story.metadata.narration?.durationMs ?? Math.round(await this.media.durationMs(narrationFile, signal));
      // A narration from before subtitles existed gets them now, placed with the video.
      const missingSubtitles =
        !story.subtitlesKey || !(await this.storage.exists(story.subtitlesKey)) ? await this.timelines.subtitleFiles(story, durationMs) : undefined;
      const { timeline, cues } = missingSubtitles?.result ?? (await this.timelines.subtitles(story, durationMs));

      const aspect: VideoAspect = story.autoMode.videoPreset ?? '16:9';
      const { width, height } = videoSize(aspect, this.config.video.scale);
      const { fps, crossfadeMs, preset, crf, audioBitrateKbps, subtitleFontFile } = this.config.video;
      const burn = story.autoMode.burnSubtitles === true && cues.length > 0;
      const captionStyle = resolveCaptionStyle(story.autoMode.captions);
      if (burn && !(await fs.access(subtitleFontFile).then(() => true, () => false))) {
        // Retrying cannot help: the configuration has to change.
        throw new PermanentStepError(`font file ${JSON.stringify(subtitleFontFile)} cannot be read (SUBTITLE_FONT_FILE); burned-in subtitles need it`);
      }
      const byIndex = new Map(chunks.map((chunk, position) => [chunk.index, position]));

      // Burned in and muxed from the scratch folder until the render is placed.
      const subtitlesFile = missingSubtitles ? path.join(dir, 'subtitles.srt') : await this.storage.localFile(story.subtitlesKey!, dir);
      if (missingSubtitles) await fs.writeFile(subtitlesFile, missingSubtitles.files[0]!.bytes);
      const outFile = path.join(dir, 'video.mp4');
      // Title card, soundtrack (music, spoken title) and thumbnail: see PresentationService.
      const sound = await this.presentation.prepareSound(story, narrationFile, durationMs, dir, signal);
      const images = await Promise.all(chunks.map((chunk) => this.storage.localFile(chunk.storageKey!, dir)));
      const thumbnail = await this.presentation.renderThumbnail(story, images[0]!, aspect, dir, signal);
      const rendered = await this.media.renderVideo({
        images,
        slides: timeline.images.map((image) => ({ image: byIndex.get(image.index)!, startMs: image.startMs })),
        narrationFile: sound.soundFile,
        intro: sound.intro,
        durationMs,
        subtitlesFile,
        burnIn: burn ? { style: captionStyle, cues, groups: groupWords(timeline.words, { durationMs }), fontFile: subtitleFontFile } : undefined,
        width,
        height,
        fps,
        crossfadeMs,
        preset,
        crf,
        audioBitrateKbps,
        language: trackLanguage(story.language),
        title: story.title ?? undefined,
        chapters: this.presentation.videoChapters(
          timeline.images.map((image) => ({
            startMs: image.startMs,
            endMs: image.endMs,
            title: chapterTitle(chunks[byIndex.get(image.index)!]!.text),
          })),
          sound.intro,
        ),
        outFile,
        workDir: dir,
        signal,
      });
      const key = artifactKeys.video(storyId);
      const renderMs = Math.round(performance.now() - startedAt);
      // Placed only while this run still owns the step (see MergeStep): a run overtaken by another
      // never replaces a finished story's video.
      placed = await this.stories.completeStepWithOutput(
        storyId,
        'video',
        {
          values: { videoKey: key, ...(missingSubtitles ? { subtitlesKey: missingSubtitles.subtitlesKey } : {}) },
          metadata: {
            ...missingSubtitles?.metadata,
            video: {
              preset: aspect,
              width,
              height,
              fps,
              durationMs: Math.round((rendered.frames * 1000) / fps),
              slides: rendered.slides,
              burnedSubtitles: burn,
              ...(burn ? { captions: captionStyle.preset } : {}),
              introMs: sound.intro?.durationMs ?? 0,
              renderMs,
              speed: Math.round((durationMs / Math.max(1, renderMs)) * 100) / 100,
            },
            soundtrack: sound.soundtrack?.metadata ?? null,
            thumbnail: { width: thumbnail.width, height: thumbnail.height },
            stepDurationsMs: { video: renderMs },
          },
        },
        async () => {
          await this.storage.moveIn(key, outFile);
          await this.presentation.place(storyId, { soundtrack: sound.soundtrack?.file, thumbnail: thumbnail.file });
          for (const file of missingSubtitles?.files ?? []) await this.storage.write(file.key, file.bytes);
          for (const stale of missingSubtitles?.staleKeys ?? []) await this.storage.remove(stale);
        },
      );
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    if (!placed) return;
    this.events.emit({ type: 'step', storyId, batchId: story.batchId, step: 'video', state: 'done' });
  }
}
