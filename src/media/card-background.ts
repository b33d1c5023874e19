/**
 * A card's background as raw RGB24 (`width × height × 3` bytes, rows top to bottom): a linear
 * gradient from `from` at the top-left corner to `to` at the bottom-right, each pixel's share
 * being its projection on that diagonal (the rule of lavfi `gradients` with two colours).
 * @param from `0xRRGGBB` (an alpha suffix is ignored).
 * @throws Error when a colour is not `0xRRGGBB`.
 */
export function cardGradientRgb(width: number, height: number, from: string, to: string): Buffer {
  const rgb = (color: string) => {
    const match = /^0x([0-9a-fA-F]{6})/.exec(color);
    if (!match) throw new Error(`card background colour must be 0xRRGGBB, got ${JSON.stringify(color)}`);
    const value = parseInt(match[1]!, 16);
    return [(value >> 16) & 255, (value >> 8) & 255, value & 255] as const;
  };
  const a = rgb(from);
  const b = rgb(to);
  const dx = width - 1;
  const dy = height - 1;
  const norm = dx * dx + dy * dy || 1;
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0, at = 0; y < height; y++) {
    for (let x = 0; x < width; x++, at += 3) {
      const t = Math.min(1, Math.max(0, (x * dx + y * dy) / norm));
      out[at] = Math.round(a[0] + (b[0] - a[0]) * t);
      out[at + 1] = Math.round(a[1] + (b[1] - a[1]) * t);
      out[at + 2] = Math.round(a[2] + (b[2] - a[2]) * t);
    }
  }
  return out;
}
