import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';

import { truncateLine, wrapCardText } from '../../media/ffmpeg-args.js';
import { MediaCommandError } from '../../media/media-command-error.js';
import type { CardRenderer } from '../ports.js';
import { DEFAULT_LOCAL_PROVIDER_TIMEOUT_MS, ProviderError } from '../provider-error.js';
import type { StoryStyle } from '../../shared/story-style.js';
import type { GeneratedImage, ImageGenerator, ImageRequest } from '../types.js';
import { makeScratchDir } from '../../shared/scratch.js';

export interface CardPalette {
  name: string;
  /** Gradient start (top-left) and end (bottom-right), `0xRRGGBB`. */
  from: string;
  to: string;
  /** Body text colour. */
  text: string;
  /** Title and index label colour. */
  accent: string;
}

/** Palettes with the words (English and Vietnamese, lower case) in genre/tone that pick them. */
const PALETTES: ReadonlyArray<CardPalette & { words: readonly string[] }> = [
  { name: 'night', from: '0x0f172a', to: '0x1e3a8a', text: '0xf8fafc', accent: '0x93c5fd', words: [] },
  {
    name: 'fairy-tale',
    from: '0x4c1d95',
    to: '0xdb2777',
    text: '0xfdf4ff',
    accent: '0xfbcfe8',
    words: ['fairy', 'fable', 'magic', 'children', 'kids', 'cổ tích', 'thần thoại', 'ngụ ngôn', 'thiếu nhi'],
  },
  {
    name: 'legend',
    from: '0x78350f',
    to: '0xb45309',
    text: '0xfffbeb',
    accent: '0xfde68a',
    words: ['legend', 'myth', 'histor', 'epic', 'folk', 'truyền thuyết', 'lịch sử', 'dân gian', 'sử thi'],
  },
  {
    name: 'horror',
    from: '0x0a0a0a',
    to: '0x7f1d1d',
    text: '0xfef2f2',
    accent: '0xfca5a5',
    words: ['horror', 'scary', 'dark', 'ghost', 'creepy', 'grim', 'kinh dị', 'ma', 'u ám', 'rùng rợn'],
  },
  {
    name: 'mystery',
    from: '0x111827',
    to: '0x374151',
    text: '0xf9fafb',
    accent: '0xa5b4fc',
    words: ['mystery', 'detective', 'crime', 'thriller', 'suspense', 'bí ẩn', 'trinh thám', 'hồi hộp'],
  },
  {
    name: 'sci-fi',
    from: '0x042f2e',
    to: '0x0e7490',
    text: '0xecfeff',
    accent: '0x67e8f9',
    words: ['sci', 'science', 'space', 'future', 'cyber', 'robot', 'khoa học', 'viễn tưởng', 'vũ trụ'],
  },
  {
    name: 'adventure',
    from: '0x14532d',
    to: '0xc2410c',
    text: '0xf7fee7',
    accent: '0xfed7aa',
    words: ['adventure', 'journey', 'quest', 'action', 'epic', 'phiêu lưu', 'hành động', 'khám phá'],
  },
  {
    name: 'romance',
    from: '0x831843',
    to: '0xf472b6',
    text: '0xfff1f2',
    accent: '0xffe4e6',
    words: ['romance', 'love', 'romantic', 'tender', 'lãng mạn', 'tình yêu', 'tình cảm'],
  },
  {
    name: 'comedy',
    from: '0xb45309',
    to: '0xeab308',
    text: '0x1c1917',
    accent: '0x451a03',
    words: ['comedy', 'funny', 'humor', 'humour', 'playful', 'cheerful', 'light', 'hài', 'vui', 'hài hước'],
  },
  {
    name: 'calm',
    from: '0x1e3a8a',
    to: '0x0d9488',
    text: '0xf0fdfa',
    accent: '0x99f6e4',
    words: ['calm', 'gentle', 'peaceful', 'warm', 'hopeful', 'bedtime', 'nhẹ nhàng', 'ấm áp', 'bình yên'],
  },
];

/** The palette for a story without a style (or an empty one). */
export const DEFAULT_CARD_PALETTE: CardPalette = stripWords(PALETTES[0]!);

function stripWords({ name, from, to, text, accent }: CardPalette & { words?: readonly string[] }): CardPalette {
  return { name, from, to, text, accent };
}

/** FNV-1a, 32 bit: a stable hash so an unknown style still maps to the same palette every time. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

function matches(haystack: string, word: string): boolean {
  // Whole words for short ones ("ma", "hài", "sci"), substring for longer stems ("histor").
  if (word.length <= 4) return new RegExp(`(^|[^\\p{L}])${word}($|[^\\p{L}])`, 'u').test(haystack);
  return haystack.includes(word);
}

/**
 * Colours for a story's style. Genre words win over tone words; a style that names no known
 * word still gets a stable palette from a hash of its genre and tone; no style → the default.
 */
export function paletteForStyle(style: StoryStyle | undefined): CardPalette {
  const genre = (style?.genre ?? '').normalize('NFC').toLowerCase().trim();
  const tone = (style?.tone ?? '').normalize('NFC').toLowerCase().trim();
  if (genre === '' && tone === '') return DEFAULT_CARD_PALETTE;
  for (const field of [genre, tone]) {
    if (field === '') continue;
    const found = PALETTES.find((p) => p.words.some((w) => matches(field, w)));
    if (found) return stripWords(found);
  }
  return stripWords(PALETTES[fnv1a(`${genre}|${tone}`) % PALETTES.length]!);
}

export interface CardImageGeneratorOptions {
  /**
   * A TrueType/OpenType font with the glyphs of every story language (DejaVu Sans covers
   * Vietnamese). Must exist: a missing font is a permanent error, never a silent fallback.
   */
  fontFile: string;
  width?: number;
  height?: number;
  /**
   * Deadline for one card, ms; ffmpeg is killed when it passes. Default
   * {@link DEFAULT_LOCAL_PROVIDER_TIMEOUT_MS} (the registry passes `PROVIDER_TIMEOUT_MS`).
   */
  timeoutMs?: number;
}

/** Characters per body line and lines per card. */
const BODY_LINE_CHARS = 28;
const BODY_MAX_LINES = 6;
const TITLE_MAX_CHARS = 60;

/**
 * The offline image generator: a real PNG card per chunk (style colours, the title, the chunk's
 * opening words, the chunk number). Marked `placeholder: true`: it stands in for an illustration.
 * Each card stops when the caller's signal aborts (the abort is rethrown unchanged) or when
 * `timeoutMs` passes (a transient ProviderError).
 */
export class CardImageGenerator implements ImageGenerator {
  readonly name = 'card';
  private readonly width: number;
  private readonly height: number;
  private readonly fontFile: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly media: CardRenderer,
    options: CardImageGeneratorOptions,
  ) {
    this.fontFile = options.fontFile;
    this.width = options.width ?? 1280;
    this.height = options.height ?? 720;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_LOCAL_PROVIDER_TIMEOUT_MS;
  }

  async generate(request: ImageRequest): Promise<GeneratedImage> {
    const palette = paletteForStyle(request.style);
    const bodyLines = wrapCardText(request.text.trim() !== '' ? request.text : request.prompt, BODY_LINE_CHARS, BODY_MAX_LINES);
    const number = request.index + 1;
    const label = request.total !== undefined && request.total > 0 ? `${number} / ${request.total}` : `${number}`;
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, deadline]) : deadline;
    const dir = await makeScratchDir('card-out-');
    try {
      const outFile = path.join(dir, 'card.png');
      try {
        await this.media.renderCard({
          outFile,
          width: this.width,
          height: this.height,
          fontFile: this.fontFile,
          background: { from: palette.from, to: palette.to },
          textColor: palette.text,
          accentColor: palette.accent,
          title: truncateLine(request.title, TITLE_MAX_CHARS),
          bodyLines,
          label,
          signal,
        });
      } catch (error) {
        if (request.signal?.aborted) throw error;
        if (deadline.aborted) {
          throw new ProviderError(`card: rendering chunk ${number} took longer than ${this.timeoutMs} ms (timed out)`, 'transient', this.name, {
            cause: error,
          });
        }
        if ((error as Error).name === 'AbortError') throw error;
        // Killed by a signal (out of memory, shutdown) may pass on a retry; a bad font or ffmpeg error will not.
        const kind = error instanceof MediaCommandError && error.exitCode === null ? 'transient' : 'permanent';
        throw new ProviderError(`card: rendering chunk ${number} failed: ${(error as Error).message}`, kind, this.name, {
          cause: error,
        });
      }
      const data = await readFile(outFile);
      return {
        data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        mediaType: 'image/png',
        extension: 'png',
        placeholder: true,
        model: 'card',
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
