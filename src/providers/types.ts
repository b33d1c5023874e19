/**
 * The three provider capabilities. Steps ask the registry for one of these and never name a vendor.
 * Every method takes an AbortSignal so that a timeout or a cancel stops the call.
 */

import type { StoryStyle } from '../shared/story-style.js';

export interface StoryWriteRequest {
  /** The upload's text: decoded, NFC, LF line ends. */
  sourceText: string;
  /** Original file name, used for a title when the text gives none. */
  fileName?: string;
  /** ISO 639-1 code of the language the story is to be written in. */
  language: string;
  style: StoryStyle;
  customPrompt?: string;
  /** Target words per image chunk; a writer that returns image prompts gives one per this many words. */
  wordPerChunkImage: number;
  signal?: AbortSignal;
}

export interface WrittenStory {
  title: string;
  /** Story text, paragraphs separated by blank lines. */
  content: string;
  /** Image prompts in story order, one per image chunk; may be empty (the chunk text is used). */
  imagePrompts: string[];
  /**
   * Characters, setting and art style in a few sentences (English), sent with every image prompt
   * of the story so that its pictures look alike; absent when the writer gives none (`source`).
   */
  visualDescription?: string;
  /** Model or engine that wrote it, stored in story metadata. */
  model: string;
  /** Provider that wrote it, when not the writer's own name (a fallback chain sets it). */
  provider?: string;
}

export interface StoryWriter {
  readonly name: string;
  write(request: StoryWriteRequest): Promise<WrittenStory>;
}

export interface ImageRequest {
  /** What to draw. */
  prompt: string;
  /** The chunk text the image illustrates. */
  text: string;
  /** 0-based chunk index. */
  index: number;
  /** Number of image chunks in the story. */
  total: number;
  title: string;
  style: StoryStyle;
  language: string;
  /** The story's visual description (characters, setting, art style), carried by every prompt. */
  visualDescription?: string;
  /** One seed per story (0 … 2^31−1), so that generators that take one draw alike pictures. */
  seed?: number;
  signal?: AbortSignal;
}

export interface GeneratedImage {
  data: Uint8Array;
  mediaType: 'image/png' | 'image/jpeg' | 'image/webp';
  /** File extension without the dot, matching mediaType. */
  extension: 'png' | 'jpg' | 'webp';
  /** True when the image is a stand-in (the offline `card` generator), not an illustration. */
  placeholder: boolean;
  model: string;
  /** Provider that made it, when not the generator's own name (a fallback chain sets it). */
  provider?: string;
}

export interface ImageGenerator {
  readonly name: string;
  generate(request: ImageRequest): Promise<GeneratedImage>;
}

export interface SpeechRequest {
  /** Text to speak, already prepared for speech. At most the synthesizer's `maxInputChars`. */
  text: string;
  /** ISO 639-1 code; picks the voice when `voice` is not given. */
  language: string;
  /** Provider-specific voice name. */
  voice?: string;
  signal?: AbortSignal;
}

export interface SynthesizedSpeech {
  data: Uint8Array;
  mediaType: 'audio/wav' | 'audio/mpeg' | 'audio/ogg' | 'audio/aac' | 'audio/flac';
  extension: 'wav' | 'mp3' | 'ogg' | 'aac' | 'flac';
  /** Voice actually used. */
  voice: string;
  model: string;
  /** Provider that made it, when not the synthesizer's own name (a fallback chain sets it). */
  provider?: string;
  /** When the provider reports them (Edge, ElevenLabs): each word and when it is spoken, clip-relative ms. */
  words?: { text: string; startMs: number; endMs: number }[];
}

export interface SpeechSynthesizer {
  readonly name: string;
  /** Largest text one call accepts, in characters (OpenAI speech: 4,096). Chunking never exceeds it. */
  readonly maxInputChars: number;
  synthesize(request: SpeechRequest): Promise<SynthesizedSpeech>;
}
