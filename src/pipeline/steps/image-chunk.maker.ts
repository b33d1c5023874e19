import { Injectable } from '@nestjs/common';
import type { ImageChunk, Story } from '../../db/schema.js';
import { ProviderRegistry } from '../../providers/registry.js';
import type { ChunkMaker, MadeChunk } from './chunk-maker.js';
import { imageSeedOf } from './story.step.js';

/** Makes an image chunk's picture with the story's image generator (1280×720 unless configured). */
@Injectable()
export class ImageChunkMaker implements ChunkMaker<'images'> {
  constructor(private readonly providers: ProviderRegistry) {}

  async make(story: Story, chunk: ImageChunk, total: number, signal?: AbortSignal): Promise<MadeChunk<'images'>> {
    const generator = this.providers.imageGenerator(story.providers.images);
    const image = await generator.generate({
      prompt: chunk.prompt,
      text: chunk.text,
      index: chunk.index,
      total,
      title: story.title ?? '',
      style: story.style,
      language: story.language ?? 'en',
      visualDescription: story.metadata.visualDescription,
      seed: story.metadata.imageSeed ?? imageSeedOf(story.id),
      signal,
    });
    const provider = image.provider ?? generator.name;
    return {
      data: image.data,
      extension: image.extension,
      provider,
      requestedProvider: generator.name,
      metadata: { providers: { images: { provider, model: image.model } } },
      values: async () => ({ provider, model: image.model, placeholder: image.placeholder }),
    };
  }
}
