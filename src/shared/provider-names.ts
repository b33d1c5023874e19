/**
 * Every provider Storyforge knows, per capability, and how a choice is written:
 * `provider[:model]` for writers and image generators, `provider[:model][:voice]` for speech
 * (`edge:vi-VN-HoaiMyNeural`, `gemini:gemini-2.5-flash-preview-tts:Kore`, `espeak-ng:vi`).
 * Pure data and parsing; no configuration, no I/O.
 */

export const CAPABILITIES = ['writer', 'images', 'speech'] as const;
export type Capability = (typeof CAPABILITIES)[number];

export const STORY_WRITERS = ['source', 'openai-compatible', 'openai', 'gemini', 'anthropic'] as const;
export const IMAGE_GENERATORS = ['card', 'openai-compatible', 'gemini', 'automatic1111', 'comfyui'] as const;
export const SPEECH_SYNTHESIZERS = ['espeak-ng', 'openai-compatible', 'gemini', 'edge', 'elevenlabs'] as const;

/** Provider names per capability. */
export const PROVIDER_NAMES: Readonly<Record<Capability, readonly string[]>> = {
  writer: STORY_WRITERS,
  images: IMAGE_GENERATORS,
  speech: SPEECH_SYNTHESIZERS,
};

/** What a capability is called in messages. */
export const CAPABILITY_LABEL: Readonly<Record<Capability, string>> = {
  writer: 'story writer',
  images: 'image generator',
  speech: 'speech synthesizer',
};

/**
 * Models a provider is known to serve, default first (suggestions for `GET /providers`; any model
 * id the vendor serves is accepted). Providers without an entry take no model (their second part
 * is a voice, for speech) or use the one configured for them.
 */
export const KNOWN_MODELS: Readonly<Partial<Record<`${Capability}.${string}`, readonly string[]>>> = {
  'writer.gemini': ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.5-flash-lite'],
  'writer.anthropic': ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1'],
  'writer.openai': ['gpt-4.1-mini', 'gpt-4.1', 'gpt-5-mini', 'gpt-4o-mini'],
  'images.gemini': ['imagen-4.0-generate-001', 'imagen-4.0-fast-generate-001', 'gemini-2.5-flash-image'],
  'speech.gemini': ['gemini-2.5-flash-preview-tts', 'gemini-2.5-pro-preview-tts'],
  'speech.elevenlabs': ['eleven_multilingual_v2', 'eleven_flash_v2_5', 'eleven_v3'],
};

/** Speech providers whose choice has no model part: `edge:VOICE`, `espeak-ng:VOICE`. */
const VOICE_ONLY = new Set(['edge', 'espeak-ng']);

/** A parsed choice. `model`/`voice` absent = the provider's configured default. */
export interface ProviderChoice {
  provider: string;
  model?: string;
  voice?: string;
}

/**
 * Reads `provider[:model][:voice]`. For `edge` and `espeak-ng` the second part is the voice; for
 * other speech providers a second part that is one of `knownVoices` is the voice, else the model.
 * Returns undefined for an empty text. The provider name is not checked here.
 */
export function parseChoice(capability: Capability, spec: string, knownVoices: (provider: string) => readonly string[] = () => []): ProviderChoice | undefined {
  const parts = spec.trim().split(':').map((part) => part.trim());
  const provider = parts[0];
  if (!provider) return undefined;
  const [second, third] = [parts[1] || undefined, parts.slice(2).join(':') || undefined];
  if (capability !== 'speech') return { provider, model: [second, third].filter(Boolean).join(':') || undefined };
  if (VOICE_ONLY.has(provider)) return { provider, voice: [second, third].filter(Boolean).join(':') || undefined };
  if (second && !third && knownVoices(provider).includes(second)) return { provider, voice: second };
  return { provider, model: second, voice: third };
}

/** `provider[:model][:voice]` again, for storage and messages. */
export function formatChoice(choice: ProviderChoice): string {
  if (VOICE_ONLY.has(choice.provider)) return [choice.provider, choice.voice].filter(Boolean).join(':');
  if (!choice.model && choice.voice) return `${choice.provider}:${choice.voice}`;
  return [choice.provider, choice.model, choice.voice].filter(Boolean).join(':');
}
