import path from 'node:path';
import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../shared/auth-user.js';
import type { Story } from '../db/schema.js';
import { notFound } from '../shared/api-error.js';
import type { FileResponse, StreamedZip, ZipResponse } from '../dtos/file-download.js';
import { artifactKeys, StorageRepository } from '../repositories/storage.repository.js';
import { StoryRepository } from '../repositories/story.repository.js';
import { folderName } from './export.service.js';
import { PackageService } from './package.service.js';

const MEDIA_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  aac: 'audio/aac',
  flac: 'audio/flac',
};

const mediaType = (key: string) => MEDIA_TYPES[path.extname(key).slice(1).toLowerCase()] ?? 'application/octet-stream';

/**
 * The files a story made, for download by its owner: narration, one clip, one image, all images
 * as a ZIP. Only files whose step or chunk is finished are served; anything else answers 404.
 */
@Injectable()
export class StoryFileService {
  constructor(
    private readonly stories: StoryRepository,
    private readonly storage: StorageRepository,
    private readonly packages: PackageService,
  ) {}

  /** narration.mp3 (`audio/mpeg`). @throws ApiError 404 until the merge step is done. */
  async narration(user: AuthUser, id: string): Promise<FileResponse> {
    const story = await this.owned(user, id);
    if (!story.narrationKey || story.mergeStep !== 'completed') throw notFound('Narration of story', id);
    return { storage: this.storage, key: story.narrationKey, contentType: 'audio/mpeg', fileName: `${baseName(story)}.mp3`, disposition: 'inline' };
  }

  /** subtitles.srt (`application/x-subrip`) or .vtt (`text/vtt`). @throws ApiError 404 until the merge step wrote them. */
  async subtitles(user: AuthUser, id: string, format: 'srt' | 'vtt'): Promise<FileResponse> {
    const story = await this.owned(user, id);
    if (!story.subtitlesKey || story.mergeStep !== 'completed') throw notFound('Subtitles of story', id);
    const key = artifactKeys.subtitles(id, format);
    const contentType = format === 'srt' ? 'application/x-subrip; charset=utf-8' : 'text/vtt; charset=utf-8';
    return { storage: this.storage, key, contentType, fileName: `${baseName(story)}.${format}`, disposition: 'attachment' };
  }

  /** video.mp4 (`video/mp4`). @throws ApiError 404 until the video step is done. */
  async video(user: AuthUser, id: string): Promise<FileResponse> {
    const story = await this.owned(user, id);
    if (!story.videoKey || story.videoStep !== 'completed') throw notFound('Video of story', id);
    return { storage: this.storage, key: story.videoKey, contentType: 'video/mp4', fileName: `${baseName(story)}.mp4`, disposition: 'inline' };
  }

  /** soundtrack.mp3 (`audio/mpeg`), the video's sound. @throws ApiError 404 until a video with music or a title card is rendered. */
  async soundtrack(user: AuthUser, id: string): Promise<FileResponse> {
    const story = await this.owned(user, id);
    if (story.videoStep !== 'completed' || !story.metadata.soundtrack) throw notFound('Soundtrack of story', id);
    return { storage: this.storage, key: artifactKeys.soundtrack(id), contentType: 'audio/mpeg', fileName: `${baseName(story)}-soundtrack.mp3`, disposition: 'inline' };
  }

  /** thumbnail.jpg (`image/jpeg`). @throws ApiError 404 until the video is rendered. */
  async thumbnail(user: AuthUser, id: string): Promise<FileResponse> {
    const story = await this.owned(user, id);
    if (story.videoStep !== 'completed' || !story.metadata.thumbnail) throw notFound('Thumbnail of story', id);
    return { storage: this.storage, key: artifactKeys.thumbnail(id), contentType: 'image/jpeg', fileName: `${baseName(story)}.jpg`, disposition: 'inline' };
  }

  /** One narration clip, by 0-based chunk index. @throws ApiError 404 until that clip is made. */
  async clip(user: AuthUser, id: string, index: number): Promise<FileResponse> {
    await this.owned(user, id);
    const chunk = await this.stories.chunk('audio', id, index);
    if (!chunk?.storageKey || chunk.status !== 'completed') throw notFound(`Audio clip ${index} of story`, id);
    return this.file(chunk.storageKey, 'inline');
  }

  /** One image, by 0-based chunk index. @throws ApiError 404 until that image is made. */
  async image(user: AuthUser, id: string, index: number): Promise<FileResponse> {
    await this.owned(user, id);
    const chunk = await this.stories.chunk('images', id, index);
    if (!chunk?.storageKey || chunk.status !== 'completed') throw notFound(`Image ${index} of story`, id);
    return this.file(chunk.storageKey, 'inline');
  }

  /** Every finished image, as `images/001.png …` in one ZIP. @throws ApiError 404 when there is none. */
  async imagesArchive(user: AuthUser, id: string): Promise<ZipResponse> {
    const story = await this.owned(user, id);
    const chunks = (await this.stories.imageChunks(id)).filter((c) => c.status === 'completed' && c.storageKey);
    if (!chunks.length) throw notFound('Images of story', id);
    return {
      fileName: `${baseName(story)}-images.zip`,
      storage: this.storage,
      entries: chunks.map((chunk) => ({ key: chunk.storageKey!, name: `images/${path.posix.basename(chunk.storageKey!)}` })),
    };
  }

  /**
   * The whole story as one ZIP (story.md, story.json, images, clips, narration, subtitles, video),
   * streamed. @throws ApiError 404 when the story is not the user's.
   */
  async package(user: AuthUser, id: string): Promise<StreamedZip> {
    await this.owned(user, id);
    const described = await this.packages.describe(id);
    if (!described) throw notFound('Story', id);
    return { fileName: described.fileName, write: (output) => this.packages.streamPackage(id, output) };
  }

  private file(key: string, disposition: FileResponse['disposition']): FileResponse {
    return { storage: this.storage, key, contentType: mediaType(key), fileName: path.posix.basename(key), disposition };
  }

  private async owned(user: AuthUser, id: string): Promise<Story> {
    const story = await this.stories.get(id);
    if (!story || story.userId !== user.id) throw notFound('Story', id);
    return story;
  }
}

function baseName(story: Story): string {
  return folderName(story.title ?? story.id);
}
