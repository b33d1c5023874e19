import path from 'node:path';
import fs from 'node:fs/promises';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { Story, StoryMetadata } from '../db/schema.js';
import { DEFAULT_MUSIC_LEVELS } from '../media/soundtrack.js';
import { planIntro, THUMBNAIL_SIZES, TITLE_SPEECH_START_MS } from '../media/title-card.js';
import type { Chapter, VideoAspect } from '../media/video.js';
import { PermanentStepError } from './step-failure.js';
import { ProviderRegistry } from '../providers/registry.js';
import { MediaRepository } from '../repositories/media.repository.js';
import { MusicRepository } from '../repositories/music.repository.js';
import { artifactKeys, StorageRepository } from '../repositories/storage.repository.js';

/** The sound a video carries and the title card before its first image. */
export interface VideoSound {
  /** The file to mux: `soundtrack` when one was made, else the narration itself. */
  soundFile: string;
  /** A soundtrack made in the scratch folder, to be placed as `soundtrack.mp3`, and what to record about it. */
  soundtrack?: { file: string; metadata: NonNullable<StoryMetadata['soundtrack']> };
  /** The title card: whole frames, their length (ms, exactly frames / fps), the title, its font. */
  intro?: { frames: number; durationMs: number; title: string; fontFile: string };
}

/** Where the thumbnail's title sits (share of the height): the lower part, under a 16:9 card's text; in a 9:16 frame, under the fitted picture. */
const THUMBNAIL_TITLE_CENTRE: Record<VideoAspect, number> = { '16:9': 0.72, '9:16': 0.8 };

/**
 * What makes a rendered story a video a creator would publish, around the render itself: the
 * title card and the spoken title, the soundtrack (narration after the card, music ducked under
 * it, normalised like the narration), and `thumbnail.jpg`. The video step asks for these and
 * places the files with the video.
 */
@Injectable()
export class PresentationService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly music: MusicRepository,
    private readonly storage: StorageRepository,
    private readonly media: MediaRepository,
    private readonly providers: ProviderRegistry,
  ) {}

  /**
   * The video's sound. With neither music nor a title card (auto mode `music`, `titleCard`,
   * `speakTitle`; a card needs a title) it is the narration as it is. Otherwise a soundtrack is
   * mixed into `dir`: the spoken title (when asked) on the card, the narration after the card,
   * the music under both, at the narration's loudness target.
   * @param narrationMs the narration's decoded length, ms.
   * @throws PermanentStepError when the music file is gone or is not the story owner's, or the
   * title font cannot be read.
   */
  async prepareSound(story: Story, narrationFile: string, narrationMs: number, dir: string, signal?: AbortSignal): Promise<VideoSound> {
    const { fps, titleFontFile } = this.config.video;
    const title = story.title?.trim();
    const wantsCard = (story.autoMode.titleCard === true || story.autoMode.speakTitle === true) && !!title;
    const musicSettings = story.autoMode.music;
    if (!wantsCard && !musicSettings) return { soundFile: narrationFile };

    if (wantsCard) await this.checkTitleFont();
    let titleSpeech: { file: string; durationMs: number } | undefined;
    if (wantsCard && story.autoMode.speakTitle) titleSpeech = await this.speakTitle(story, title!, dir, signal);
    const intro = wantsCard ? { ...planIntro(fps, titleSpeech?.durationMs), title: title!, fontFile: titleFontFile } : undefined;

    let music: { file: string; name: string } | undefined;
    if (musicSettings) {
      const file = await this.music.get(musicSettings.fileId);
      if (!file || file.userId !== story.userId || !(await this.storage.exists(file.storageKey))) {
        throw new PermanentStepError(`music file ${musicSettings.fileId} is gone; upload the music again and start the video again with its new id`);
      }
      music = { file: await this.storage.localFile(file.storageKey, dir), name: file.originalName };
    }

    const { lufs, truePeakDb, sampleRate, bitrateKbps } = this.config.narration;
    const narrationStartMs = intro?.durationMs ?? 0;
    const durationMs = narrationStartMs + narrationMs;
    const volumeDb = musicSettings?.volumeDb ?? DEFAULT_MUSIC_LEVELS.volumeDb;
    const duckingDb = musicSettings?.duckingDb ?? DEFAULT_MUSIC_LEVELS.duckingDb;
    const file = path.join(dir, 'soundtrack.mp3');
    const mixed = await this.media.mixSoundtrack({
      narrationFile,
      narrationStartMs,
      titleSpeechFile: titleSpeech?.file,
      titleSpeechStartMs: TITLE_SPEECH_START_MS,
      musicFile: music?.file,
      musicVolumeDb: volumeDb,
      duckingDb,
      narrationLufs: story.metadata.narration?.measuredOutputLufs ?? story.metadata.narration?.lufs ?? lufs,
      durationMs,
      sampleRate,
      lufs,
      truePeakDb,
      bitrateKbps,
      outFile: file,
      signal,
    });
    return {
      soundFile: file,
      intro,
      soundtrack: {
        file,
        metadata: {
          durationMs: Math.round(durationMs),
          narrationStartMs: Math.round(narrationStartMs * 1000) / 1000,
          titleSpoken: titleSpeech !== undefined,
          music:
            music && musicSettings
              ? { fileId: musicSettings.fileId, name: music.name, volumeDb, duckingDb, measuredLufs: round2(mixed.musicLufs), gainDb: mixed.musicGainDb }
              : null,
          lufs,
          measuredLufs: round2(mixed.output.inputI) ?? Number.NaN,
          measuredTruePeakDb: round2(mixed.output.inputTp) ?? Number.NaN,
          method: mixed.method,
        },
      },
    };
  }

  /**
   * The chapters in video time: every chapter moved behind the title card, and the card itself as
   * the first chapter, named with the title.
   */
  videoChapters(chapters: Chapter[], intro: VideoSound['intro']): Chapter[] {
    if (!intro) return chapters;
    const shift = intro.durationMs;
    return [{ startMs: 0, endMs: shift, title: intro.title }, ...chapters.map((c) => ({ ...c, startMs: c.startMs + shift, endMs: c.endMs + shift }))];
  }

  /**
   * `thumbnail.jpg` in `dir`: the first image at 1280×720 (16:9 videos) or 1080×1920 (9:16), with
   * the story's title (the file name's when it has none) drawn on it.
   * @returns the file and its size, pixels.
   * @throws PermanentStepError when TITLE_FONT_FILE cannot be read.
   */
  async renderThumbnail(story: Story, imageFile: string, aspect: VideoAspect, dir: string, signal?: AbortSignal): Promise<{ file: string; width: number; height: number }> {
    await this.checkTitleFont();
    const { width, height } = THUMBNAIL_SIZES[aspect];
    const file = path.join(dir, 'thumbnail.jpg');
    await this.media.renderThumbnail({
      imageFile,
      width,
      height,
      title: story.title?.trim() || 'Untitled story',
      fontFile: this.config.video.titleFontFile,
      centre: THUMBNAIL_TITLE_CENTRE[aspect],
      outFile: file,
      signal,
    });
    return { file, width, height };
  }

  /**
   * Places the presentation files of a render under the story's keys, and removes those an
   * earlier render left that this one did not make (a video made again without music has no
   * soundtrack).
   */
  async place(storyId: string, made: { soundtrack?: string; thumbnail?: string }): Promise<void> {
    const files = [
      { key: artifactKeys.soundtrack(storyId), file: made.soundtrack },
      { key: artifactKeys.thumbnail(storyId), file: made.thumbnail },
    ];
    for (const { key, file } of files) {
      if (file) await this.storage.moveIn(key, file);
      else await this.storage.remove(key);
    }
  }

  /** @throws PermanentStepError when TITLE_FONT_FILE cannot be read (a retry cannot help: the configuration has to change). */
  private async checkTitleFont(): Promise<void> {
    const font = this.config.video.titleFontFile;
    if (!(await fs.access(font).then(() => true, () => false))) {
      throw new PermanentStepError(`font file ${JSON.stringify(font)} cannot be read (TITLE_FONT_FILE); the thumbnail and the title card need it`);
    }
  }

  /** Speaks the title with the story's synthesizer and voice into `dir`. */
  private async speakTitle(story: Story, title: string, dir: string, signal?: AbortSignal): Promise<{ file: string; durationMs: number }> {
    const speech = await this.providers.speechSynthesizer(story.providers.speech).synthesize({
      text: title,
      language: story.language ?? this.config.defaults.language,
      voice: story.autoMode.audioVoice,
      signal,
    });
    const file = path.join(dir, `title.${speech.extension}`);
    await fs.writeFile(file, speech.data);
    return { file, durationMs: await this.media.durationMs(file, signal) };
  }
}

function round2(value: number | undefined): number | undefined {
  return value === undefined || !Number.isFinite(value) ? undefined : Math.round(value * 100) / 100;
}
