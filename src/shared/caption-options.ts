/** Caption looks: `classic` = sentence cues at the bottom; `shorts` = 1–4 large words, the spoken one highlighted. */
export const CAPTION_PRESETS = ['classic', 'shorts'] as const;
export type CaptionPreset = (typeof CAPTION_PRESETS)[number];

/** Where burned captions sit. */
export const CAPTION_POSITIONS = ['bottom', 'middle', 'top'] as const;
export type CaptionPosition = (typeof CAPTION_POSITIONS)[number];

/** A colour as `#RRGGBB`. */
export const HEX_COLOUR = /^#[0-9a-fA-F]{6}$/;

/**
 * How burned captions look, per batch (story `autoMode.captions`). Every field is optional; the
 * preset fills the rest ({@link resolveCaptionStyle}).
 */
export interface CaptionOptions {
  preset?: CaptionPreset;
  /** Text height as a share of the frame height, 0.02–0.15 (classic 0.045, shorts 0.075). */
  size?: number;
  /** Text colour, `#RRGGBB` (default white). */
  colour?: string;
  /** The spoken word's colour (shorts), `#RRGGBB` (default yellow #FFD700). */
  highlightColour?: string;
  /** Outline colour, `#RRGGBB` (default black). */
  outlineColour?: string;
  /** Outline width as a share of the text height, 0–0.3 (classic 0.0625, shorts 0.1). */
  outline?: number;
  position?: CaptionPosition;
}
