/** How a story should be told (seed: `style {genre, tone, length, targetAudience}`). */
export interface StoryStyle {
  genre?: string;
  tone?: string;
  /** `short`, `medium`, `long` or free text such as "about 800 words". */
  length?: string;
  targetAudience?: string;
}
