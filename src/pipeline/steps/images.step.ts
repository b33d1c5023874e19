import { Injectable } from '@nestjs/common';
import { ProviderRegistry } from '../../providers/registry.js';
import { EventsRepository } from '../../repositories/events.repository.js';
import { artifactKeys, StorageRepository } from '../../repositories/storage.repository.js';
import { StoryRepository, storyHasEnded } from '../../repositories/story.repository.js';
import { placeUnlessFinished } from './chunk-file.js';
import { imageSeedOf } from './story.step.js';

/**
 * The `images` step, one job per image chunk: generates the chunk's image and stores it under
 * its deterministic key (`stories/<id>/images/NNN.<ext>`). A finished chunk whose file exists is
 * skipped, so a retried or repeated job never adds a file.
 */
@Injectable()
export class ImagesStep {
  constructor(
    private readonly stories: StoryRepository,
    private readonly storage: StorageRepository,
    private readonly providers: ProviderRegistry,
    private readonly events: EventsRepository,
  ) {}

  /** @returns true when this call finished the last chunk and so completed the step. */
  async runChunk(storyId: string, chunkIndex: number, signal?: AbortSignal): Promise<boolean> {
    const story = await this.stories.getOrThrow(storyId);
    // Nothing to do once the step is over (a chunk that failed for good fails the whole step).
    if (storyHasEnded(story) || story.imagesStep === 'completed' || story.imagesStep === 'failed') return false;
    const chunk = await this.stories.imageChunk(storyId, chunkIndex);
    if (!chunk) throw new Error(`Story ${storyId} has no image chunk ${chunkIndex}`);
    if (await this.stories.transitionStep(storyId, 'images', ['queued'], 'running')) {
      this.events.emit({ type: 'step', storyId, batchId: story.batchId, step: 'images', state: 'started' });
    }

    const done = chunk.status === 'completed' && chunk.storageKey && (await this.storage.exists(chunk.storageKey));
    if (!done) {
      const generator = this.providers.imageGenerator(story.providers.images);
      const image = await generator.generate({
        prompt: chunk.prompt,
        text: chunk.text,
        index: chunk.index,
        total: (await this.stories.chunkCounts(storyId, 'images')).total,
        title: story.title ?? '',
        style: story.style,
        language: story.language ?? 'en',
        visualDescription: story.metadata.visualDescription,
        seed: story.metadata.imageSeed ?? imageSeedOf(storyId),
        signal,
      });
      const provider = image.provider ?? generator.name;
      const key = artifactKeys.image(storyId, chunk.index, image.extension);
      // Made beside its key and put in place only when recorded (see StoryRepository.completeChunk).
      const staged = await this.storage.stage(key, image.data);
      let recorded: boolean;
      try {
        recorded = await this.stories.completeChunk(
          'images',
          chunk,
          { storageKey: key, provider, model: image.model, placeholder: image.placeholder },
          (current) => placeUnlessFinished(this.storage, current, staged, key),
        );
      } finally {
        await this.storage.discard(staged);
      }
      // Not recorded: the story failed or was cancelled meanwhile (its rollback keeps finished
      // chunks only), or another run of this job finished the chunk first and its file stays.
      if (!recorded) return false;
      // A chunk made again may come back in another format: its earlier file goes.
      if (chunk.storageKey && chunk.storageKey !== key) await this.storage.remove(chunk.storageKey);
      await this.stories.mergeMetadata(storyId, { providers: { images: { provider, model: image.model } } });
      if (provider !== generator.name) await this.stories.addFallback(storyId, `images ${chunk.index + 1}: ${provider} (after ${generator.name})`);
    }

    const counts = await this.stories.chunkCounts(storyId, 'images');
    this.events.emit({ type: 'step', storyId, batchId: story.batchId, step: 'images', state: 'progress', ...counts });
    const completed = await this.stories.completeStepIfAllChunksDone(storyId, 'images');
    if (completed) this.events.emit({ type: 'step', storyId, batchId: story.batchId, step: 'images', state: 'done', ...counts });
    return completed;
  }
}
