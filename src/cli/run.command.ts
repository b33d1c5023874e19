import fs from 'node:fs/promises';
import path from 'node:path';
import type { AppConfig } from '../config/config.js';
import type { MusicSettings, StoryProviders } from '../db/schema.js';
import { ApiError } from '../shared/api-error.js';
import type { CaptionOptions, CaptionPosition, CaptionPreset } from '../shared/caption-options.js';
import type { StoryStyle } from '../shared/story-style.js';
import { UserRepository } from '../repositories/user.repository.js';
import { MAX_BATCH_FILES } from '../shared/batch-limits.js';
import { BatchService } from '../services/batch.service.js';
import { ProviderChoiceService } from '../services/provider-choice.service.js';
import { videoBlockers } from '../services/requested-steps.js';
import { IntakeService } from '../services/intake.service.js';
import { MusicService } from '../services/music.service.js';
import { IntakeError } from '../text/intake-error.js';
import { BatchSession, type Unreadable } from './batch-session.js';
import { EXIT } from './exit-codes.js';
import { expandInputPaths } from './input-files.js';

export interface RunOptions {
  out: string;
  language?: string;
  genre?: string;
  tone?: string;
  length?: string;
  audience?: string;
  prompt?: string;
  images: boolean;
  audio: boolean;
  merge: boolean;
  /** Render video.mp4 (also implied by `videoPreset` and `burnSubtitles`). */
  video?: boolean;
  videoPreset?: '16:9' | '9:16';
  burnSubtitles?: boolean;
  /** Caption look (`--captions`, `--caption-*`); a preset implies `burnSubtitles`. */
  captions?: CaptionPreset;
  captionSize?: number;
  captionColour?: string;
  captionHighlight?: string;
  captionOutlineColour?: string;
  captionOutline?: number;
  captionPosition?: CaptionPosition;
  /** A music file for the video (`--music`), its level against the narration and its ducking, dB; implies `video`. */
  music?: string;
  musicVolume?: number;
  musicDucking?: number;
  /** A title card before the first image (`--title-card`), spoken (`--speak-title`); implies `video`. */
  titleCard?: boolean;
  speakTitle?: boolean;
  wordsPerImage?: number;
  wordsPerAudio?: number;
  voice?: string;
  /** `provider[:model]` of the story writer. */
  writer?: string;
  /** `provider[:model]` of the image generator (`--images` is taken by `--no-images`). */
  imageEngine?: string;
  /** `provider[:model][:voice]` of the speech synthesizer. */
  speech?: string;
}

/** Email of the account that owns work done from the command line. */
export const LOCAL_USER_EMAIL = 'local@storyforge.invalid';

/**
 * `storyforge run FILES…`: one batch (or several of at most 10 files) in this process, no HTTP.
 * Shows progress, writes one folder per story and `batch.json` under `--out`.
 * @returns the exit code: 0 all stories succeeded, 1 some failed or a file was refused, 2 bad
 * usage or no readable input.
 */
export async function runCommand(inputs: string[], options: RunOptions, config: AppConfig): Promise<number> {
  const burnSubtitles = options.burnSubtitles === true || options.captions !== undefined;
  const video =
    options.video === true ||
    options.videoPreset !== undefined ||
    burnSubtitles ||
    options.music !== undefined ||
    options.titleCard === true ||
    options.speakTitle === true;
  if (!options.music && (options.musicVolume !== undefined || options.musicDucking !== undefined)) {
    process.stderr.write('--music-volume and --music-ducking set the music of --music FILE: give the music file too.\n');
    return EXIT.usage;
  }
  const blockers = videoBlockers({ renderVideo: video, generateImages: options.images, generateAudio: options.audio, mergeAudio: options.merge });
  if (blockers.length) {
    const flags = { generateImages: '--no-images', generateAudio: '--no-audio', mergeAudio: '--no-merge' };
    process.stderr.write(`--video needs the images and the merged narration: leave out ${blockers.map((b) => flags[b]).join(', ')}.\n`);
    return EXIT.usage;
  }
  const files = await expandInputPaths(inputs);
  if (!files.length) {
    process.stderr.write('No story files given (.txt, .doc, .docx).\n');
    return EXIT.usage;
  }
  const session = await BatchSession.open(config, options.out);
  const { app } = session;
  try {
    let providers: StoryProviders;
    try {
      providers = await app.get(ProviderChoiceService).check(
        { writer: options.writer, images: options.imageEngine, speech: options.speech },
        { language: options.language, audioVoice: options.voice, field: '--' },
      );
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const flags: Record<string, string> = { '--.writer': '--writer', '--.images': '--image-engine', '--.speech': '--speech', 'autoMode.audioVoice': '--voice' };
      for (const e of error.errors ?? []) process.stderr.write(`${flags[e.field] ?? e.field}: ${e.message}\n`);
      return EXIT.usage;
    }
    const user = await app.get(UserRepository).ensure(LOCAL_USER_EMAIL, 'Command line');
    let music: MusicSettings | undefined;
    if (options.music) {
      try {
        const file = await app.get(MusicService).ingest({ userId: user.id, fileName: path.basename(options.music), path: options.music });
        music = { fileId: file.id, volumeDb: options.musicVolume, duckingDb: options.musicDucking };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
          process.stderr.write(`--music: ${options.music} cannot be read (${code}); give the path of an MP3, WAV, OGG or M4A file.\n`);
          return EXIT.usage;
        }
        if (!(error instanceof ApiError)) throw error;
        process.stderr.write(`--music: ${error.message}\n`);
        return EXIT.usage;
      }
    }
    const uploadService = app.get(IntakeService);
    const unreadable: Unreadable[] = [];
    const uploadIds: string[] = [];
    for (const file of files) {
      try {
        // The size limit is checked before the file is read, so a huge file is never loaded.
        uploadService.checkFileSize((await fs.stat(file)).size, path.basename(file));
        const bytes = await fs.readFile(file);
        const upload = await uploadService.ingest({ userId: user.id, fileName: path.basename(file), bytes });
        uploadIds.push(upload.id);
      } catch (error) {
        if (!(error instanceof IntakeError)) throw error;
        unreadable.push({ file, code: error.code, error: error.message });
        process.stderr.write(`✗ ${file}: ${error.message}\n`);
      }
    }
    if (!uploadIds.length) {
      process.stderr.write('None of the files could be read; nothing to do.\n');
      return EXIT.usage;
    }

    const batchService = app.get(BatchService);
    const style: StoryStyle = { genre: options.genre, tone: options.tone, length: options.length, targetAudience: options.audience };
    const batchIds: string[] = [];
    // Several batches when there are more files than one batch takes (UPLOAD_MAX_FILES, at most MAX_BATCH_FILES).
    const perBatch = Math.min(MAX_BATCH_FILES, uploadService.limits.maxFiles);
    for (let i = 0; i < uploadIds.length; i += perBatch) {
      const { batch } = await batchService.create({
        userId: user.id,
        uploadIds: uploadIds.slice(i, i + perBatch),
        style: Object.fromEntries(Object.entries(style).filter(([, v]) => v)) as StoryStyle,
        customPrompt: options.prompt,
        language: options.language,
        providers,
        autoMode: {
          enabled: true,
          generateImages: options.images,
          generateAudio: options.audio,
          mergeAudio: options.merge,
          renderVideo: video,
          videoPreset: options.videoPreset,
          burnSubtitles,
          captions: captionOptions(options),
          ...(music ? { music } : {}),
          ...(options.titleCard || options.speakTitle ? { titleCard: true } : {}),
          ...(options.speakTitle ? { speakTitle: true } : {}),
          audioVoice: options.voice,
          wordPerChunkImage: options.wordsPerImage,
          wordPerChunkAudio: options.wordsPerAudio,
        },
      });
      batchIds.push(batch.id);
    }

    return await session.finish(batchIds, unreadable, files.length);
  } finally {
    await session.close();
  }
}

/** The `--caption-*` options as stored on the batch (only those given). */
function captionOptions(options: RunOptions): CaptionOptions | undefined {
  const captions: CaptionOptions = {
    preset: options.captions,
    size: options.captionSize,
    colour: options.captionColour,
    highlightColour: options.captionHighlight,
    outlineColour: options.captionOutlineColour,
    outline: options.captionOutline,
    position: options.captionPosition,
  };
  const given = Object.fromEntries(Object.entries(captions).filter(([, v]) => v !== undefined)) as CaptionOptions;
  return Object.keys(given).length ? given : undefined;
}
