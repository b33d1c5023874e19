/** Picture size for generators that take one, pixels. Story images are 16:9 (1280×720 by default). */
export interface ImageSize {
  width: number;
  height: number;
}

/** Text kept out of every picture (Stable Diffusion negative prompt). */
export const NEGATIVE_PROMPT = 'text, letters, words, caption, watermark, signature, logo, blurry, deformed, extra limbs';
