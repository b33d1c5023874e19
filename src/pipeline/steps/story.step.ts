import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import type { StoryMetadata } from '../../db/schema.js';
import { ProviderRegistry } from '../../providers/registry.js';
import { EventsRepository } from '../../repositories/events.repository.js';
import { StoryRepository, storyHasEnded } from '../../repositories/story.repository.js';
import { UploadRepository } from '../../repositories/upload.repository.js';
import { PermanentStepError } from '../step-failure.js';
import { chunkText } from '../../text/chunking.js';
import { detectLanguage } from '../../text/language.js';
import { isSpeakable, toSpokenText } from '../../text/speech-text.js';
import { countWords } from '../../text/words.js';

/**
 * The image seed of a story (0 … 2^31−1), from its id: the same for every picture of the story
 * and every retry, so that generators that take a seed draw alike pictures.
 */
export function imageSeedOf(storyId: string): number {
  return Number.parseInt(storyId.replace(/-/g, '').slice(0, 8), 16) & 0x7fffffff;
}

/** Longest image chunk, characters: keeps image prompts well inside every image API's limit. */
const MAX_IMAGE_CHUNK_CHARS = 3000;

/**
 * The `story` step: writes the story (kept as written by `source`, or rewritten by a language
 * model), decides its language, and cuts its image and audio chunks at sentence boundaries.
 * Running it again replaces the chunks; it never adds to them.
 */
@Injectable()
export class StoryStep {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly stories: StoryRepository,
    private readonly uploads: UploadRepository,
    private readonly providers: ProviderRegistry,
    private readonly events: EventsRepository,
  ) {}

  /**
   * Writes the story and cuts its chunks. Returns at once when the story step is done or the story
   * has ended (e.g. was cancelled). `signal` aborts the story writer's call.
   * @throws PermanentStepError when the story has nothing to narrate; ProviderError from the writer.
   */
  async run(storyId: string, signal?: AbortSignal): Promise<void> {
    const story = await this.stories.getOrThrow(storyId);
    if (story.storyStep === 'completed' || storyHasEnded(story)) return;
    const startedAt = performance.now();
    // Claimed only while the story is still on (a cancel may have come since it was read).
    if (!(await this.stories.startStoryStep(storyId, story.startedAt ?? new Date()))) return;
    this.events.emit({ type: 'step', storyId, batchId: story.batchId, step: 'story', state: 'started' });

    const upload = story.uploadId ? await this.uploads.get(story.uploadId) : undefined;
    const detected = story.language ? undefined : detectLanguage(story.originalContent);
    const language = story.language ?? detected ?? this.config.defaults.language;
    const languageSource: StoryMetadata['languageSource'] = story.language ? 'given' : detected ? 'detected' : 'default';

    const writer = this.providers.storyWriter(story.providers.writer);
    const speech = this.providers.speechSynthesizer(story.providers.speech);
    const written = await writer.write({
      sourceText: story.originalContent,
      fileName: upload?.originalName,
      language,
      style: story.style,
      customPrompt: story.customPrompt ?? undefined,
      wordPerChunkImage: story.autoMode.wordPerChunkImage,
      signal,
    });

    const imageTexts = chunkText(written.content, {
      maxWords: story.autoMode.wordPerChunkImage,
      maxChars: MAX_IMAGE_CHUNK_CHARS,
      language,
    });
    const imagePrefix = story.autoMode.customPromptImage ? `${story.autoMode.customPromptImage.trim()}\n\n` : '';
    const images = imageTexts.map((text, index) => ({
      index,
      text,
      prompt: imagePrefix + (written.imagePrompts[index]?.trim() || text),
    }));
    const audio = chunkText(written.content, {
      maxWords: story.autoMode.wordPerChunkAudio,
      maxChars: speech.maxInputChars,
      language,
    })
      // What is sent to the speech engine: markdown removed, numbers, dates, units and abbreviations in words.
      .map((text) => ({ text, spokenText: toSpokenText(text, language) }))
      .filter((chunk) => isSpeakable(chunk.spokenText))
      .map((chunk, index) => ({ ...chunk, index }));

    if (!audio.length && story.audioStep !== 'skipped') {
      throw new PermanentStepError('The story has no words to narrate (only punctuation or symbols); check the file');
    }
    await this.stories.replaceChunks(storyId, images, audio);
    await this.stories.update(storyId, {
      title: written.title,
      generatedContent: written.content,
      language,
    });
    const writerName = written.provider ?? writer.name;
    await this.stories.mergeMetadata(storyId, {
      languageSource,
      visualDescription: written.visualDescription,
      imageSeed: imageSeedOf(storyId),
      ...(writerName !== writer.name ? { fallbacks: [`story: ${writerName} (after ${writer.name})`] } : {}),
      sourceWordCount: countWords(story.originalContent, language),
      wordCount: countWords(written.content, language),
      providers: { story: { provider: writerName, model: written.model } },
      stepDurationsMs: { story: Math.round(performance.now() - startedAt) },
    });
    await this.stories.transitionStep(storyId, 'story', ['running', 'queued', 'pending'], 'completed');
    this.events.emit({ type: 'step', storyId, batchId: story.batchId, step: 'story', state: 'done' });
  }
}
