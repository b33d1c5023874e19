import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { buildThumbnailArgs, fitTitle, THUMBNAIL_SIZES } from '../../../src/media/title-card.js';
import { MediaRepository } from '../../../src/repositories/media.repository.js';
import { probeImage } from '../../support/media-probe.js';

const run = promisify(execFile);
const config = loadConfig({});

/** Every Vietnamese vowel with every tone mark (stacked over circumflex and breve capitals too), and Đ. */
const TITLE = 'Sự tích ẤẦẨẪẬ ẮẰẲẴẶ ẾỀỂỄỆ ỐỒỔỖỘ ỚỜỞỠỢ ỨỪỬỮỰ ỲỶỸỴÝ đĐ ấầẩẫậ ữựỹỵ';

/** Rows and columns where a grey picture has near-white pixels (the title's fill). */
async function whiteExtent(file: string, width: number, height: number): Promise<{ top: number; bottom: number; left: number; right: number } | undefined> {
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  const pixels = stdout as unknown as Buffer;
  let [top, bottom, left, right] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (pixels[y * width + x]! < 200) continue;
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
      left = Math.min(left, x);
      right = Math.max(right, x);
    }
  }
  return Number.isFinite(top) ? { top, bottom, left, right } : undefined;
}

describe('thumbnail.jpg with a Vietnamese title', () => {
  let dir: string;
  let picture: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'storyforge-thumbnail-'));
    // A mid-grey 16:9 picture: the title's white fill is the only near-white there is.
    picture = path.join(dir, 'picture.png');
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=0x808080:s=1280x720', '-frames:v', '1', picture]);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  for (const aspect of ['16:9', '9:16'] as const) {
    it(`${aspect}: draws every line inside the frame, every mark clear of the line above and below`, async () => {
      const { width, height } = THUMBNAIL_SIZES[aspect];
      const layout = fitTitle(TITLE, width, height);
      expect(layout.lines.join(' ')).toBe(TITLE);
      expect(layout.lines.length).toBeGreaterThan(1);

      // Each line alone (the others drawn from empty files), where the whole title puts it.
      const extents = [];
      for (const i of layout.lines.keys()) {
        const lineFiles = [];
        for (const [j, text] of layout.lines.entries()) {
          const file = path.join(dir, `${aspect.replace(':', 'x')}-${i}-${j}.txt`);
          await writeFile(file, j === i ? text : '', 'utf8');
          lineFiles.push(file);
        }
        const out = path.join(dir, `${aspect.replace(':', 'x')}-line-${i}.jpg`);
        const centre = 0.72;
        await run('ffmpeg', buildThumbnailArgs({ imageFile: picture, width, height, title: { fontFile: config.video.titleFontFile, lineFiles, layout, centre }, outFile: out }));
        extents.push((await whiteExtent(out, width, height))!);
      }
      for (const [i, extent] of extents.entries()) {
        expect(extent, `line ${i} is drawn`).toBeDefined();
        expect(extent.left, `line ${i} left`).toBeGreaterThanOrEqual(layout.margin / 2);
        expect(extent.right, `line ${i} right`).toBeLessThanOrEqual(width - layout.margin / 2);
        // Lines are centred.
        expect(Math.abs((extent.left + extent.right) / 2 - width / 2), `line ${i} centre`).toBeLessThan(layout.fontSize * 0.3);
        // Stacked marks and the dots and hooks below never touch the next line's.
        if (i > 0) expect(extent.top - extents[i - 1]!.bottom, `gap above line ${i}`).toBeGreaterThanOrEqual(2);
      }

      // The whole thumbnail, as the media repository writes it: a JPEG of the preset's size.
      const media = new MediaRepository(config);
      const file = path.join(dir, `thumbnail-${aspect.replace(':', 'x')}.jpg`);
      await media.renderThumbnail({ imageFile: picture, width, height, title: TITLE, fontFile: config.video.titleFontFile, centre: 0.72, outFile: file });
      expect(await probeImage(file)).toMatchObject({ width, height, codec: 'mjpeg' });
    });
  }
});
