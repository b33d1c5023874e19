import { Injectable } from '@nestjs/common';
import { acceptProviderWords, type ClipWordTimings, estimateWordTimings, type ProviderWordTiming } from '../../media/word-timings.js';
import { toDisplayText } from '../../text/speech-text.js';
import { ProviderRegistry } from '../../providers/registry.js';
import { EventsRepository } from '../../repositories/events.repository.js';
import { MediaRepository } from '../../repositories/media.repository.js';
import { artifactKeys, StorageRepository } from '../../repositories/storage.repository.js';
import { StoryRepository, storyHasEnded } from '../../repositories/story.repository.js';
import { placeUnlessFinished } from './chunk-file.js';

/**
 * The `audio` step, one job per audio chunk: synthesises the chunk's spoken text, stores the clip
 * under its deterministic key (`stories/<id>/audio/NNN.<ext>`) and records its decoded duration
 * and word timings.
 * A finished chunk whose file exists is skipped.
 */
@Injectable()
export class AudioStep {
  constructor(
    private readonly stories: StoryRepository,
    private readonly storage: StorageRepository,
    private readonly media: MediaRepository,
    private readonly providers: ProviderRegistry,
    private readonly events: EventsRepository,
  ) {}

  /** @returns true when this call finished the last chunk and so completed the step. */
  async runChunk(storyId: string, chunkIndex: number, signal?: AbortSignal): Promise<boolean> {
    const story = await this.stories.getOrThrow(storyId);
    // Nothing to do once the step is over (a chunk that failed for good fails the whole step).
    if (storyHasEnded(story) || story.audioStep === 'completed' || story.audioStep === 'failed') return false;
    const chunk = await this.stories.audioChunk(storyId, chunkIndex);
    if (!chunk) throw new Error(`Story ${storyId} has no audio chunk ${chunkIndex}`);
    if (await this.stories.transitionStep(storyId, 'audio', ['queued'], 'running')) {
      this.events.emit({ type: 'step', storyId, batchId: story.batchId, step: 'audio', state: 'started' });
    }

    const done = chunk.status === 'completed' && chunk.storageKey && (await this.storage.exists(chunk.storageKey));
    if (!done) {
      const synthesizer = this.providers.speechSynthesizer(story.providers.speech);
      const speech = await synthesizer.synthesize({
        text: chunk.spokenText,
        language: story.language ?? 'en',
        voice: story.autoMode.audioVoice,
        signal,
      });
      const provider = speech.provider ?? synthesizer.name;
      const key = artifactKeys.clip(storyId, chunk.index, speech.extension);
      // Made beside its key and put in place only when recorded (see StoryRepository.completeChunk).
      const staged = await this.storage.stage(key, speech.data);
      let recorded: boolean;
      try {
        // Read from the decoded stream: a clip that does not decode fails this chunk, not the merge.
        const durationMs = Math.round(await this.media.durationMs(staged, signal));
        const words: ClipWordTimings = await this.wordTimings(toDisplayText(chunk.text), story.language ?? 'en', staged, durationMs, speech.words, signal);
        recorded = await this.stories.completeChunk(
          'audio',
          chunk,
          { storageKey: key, provider, model: speech.model, voice: speech.voice, durationMs, words },
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
      await this.stories.mergeMetadata(storyId, {
        providers: { audio: { provider, model: speech.model, voice: speech.voice } },
      });
      if (provider !== synthesizer.name) await this.stories.addFallback(storyId, `audio ${chunk.index + 1}: ${provider} (after ${synthesizer.name})`);
    }

    const counts = await this.stories.chunkCounts(storyId, 'audio');
    this.events.emit({ type: 'step', storyId, batchId: story.batchId, step: 'audio', state: 'progress', ...counts });
    const completed = await this.stories.completeStepIfAllChunksDone(storyId, 'audio');
    if (completed) this.events.emit({ type: 'step', storyId, batchId: story.batchId, step: 'audio', state: 'done', ...counts });
    return completed;
  }

  /**
   * The clip's word timings: the provider's when it reported usable ones, else estimated from the
   * chunk's written text, the clip's duration and its measured silences.
   */
  private async wordTimings(
    text: string,
    language: string,
    clipFile: string,
    durationMs: number,
    provided: ProviderWordTiming[] | undefined,
    signal?: AbortSignal,
  ): Promise<ClipWordTimings> {
    const accepted = acceptProviderWords(provided, durationMs);
    if (accepted) return { source: 'provider', words: accepted };
    const silences = await this.media.silences(clipFile, durationMs, signal);
    return { source: 'estimate', words: estimateWordTimings(text, { language, durationMs, silences }) };
  }
}
