/** One word and when it is spoken, ms. Clip-relative inside a chunk; narration time once shifted. */
export interface WordTiming {
  /** The word as shown (its written form, punctuation attached). */
  text: string;
  startMs: number;
  endMs: number;
}

/**
 * What a speech provider may return with its audio: `words?: {text, startMs, endMs}[]`, clip
 * relative, ms (Edge word boundaries, ElevenLabs alignment). Same shape as {@link WordTiming}.
 */
export type ProviderWordTiming = WordTiming;

/** The word timings of one clip, as kept on its audio chunk (`audio_chunks.words`, story.json). */
export interface ClipWordTimings {
  /** `provider`: reported by the speech provider; `estimate`: estimated from the clip's duration. */
  source: 'provider' | 'estimate';
  words: WordTiming[];
}
