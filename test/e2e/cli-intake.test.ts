import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { normalizeText } from '../../src/text/normalize.js';
import { runCli, stopClis } from '../support/cli.js';
import { pngImage, zipBomb } from '../support/intake-corpus.js';
import { encodeLegacy } from '../support/legacy-text.js';
import { oleWithStreams, word97With } from '../support/ole.js';
import { sampleBytes, sampleText } from '../support/samples.js';

/**
 * `storyforge run` applies the same intake rules as the upload endpoints: every refusal code
 * reaches the user with the file's name, the other files go on, the exit code is 1.
 */
describe('storyforge run: intake rules', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-cli-intake-'));
  });
  afterEach(stopClis);
  afterAll(async () => {
    await stopClis();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('names every refused file with its code, reads the legacy-encoded story, and exits 1', async () => {
    const inputs = path.join(dir, 'inputs');
    await fs.mkdir(inputs);
    const maxBytes = 64 * 1024;
    const story = normalizeText(sampleText('stories/vi/vi_su_tich_cay_thi_la.txt'));
    const files: Record<string, Buffer> = {
      'cay_thi_la_1258.txt': encodeLegacy(story, 'windows-1258'),
      'blank.txt': Buffer.from('  \r\n\t\r\n'),
      'cover.txt': pngImage(),
      'cut.docx': sampleBytes('docs/mammoth_tables.docx').subarray(0, 4000),
      'bomb.docx': zipBomb(),
      'empty.txt': Buffer.alloc(0),
      'locked.doc': word97With((fib, doc) => doc.writeUInt16LE(doc.readUInt16LE(fib + 0x0a) | 0x0100, fib + 0x0a)),
      'mixed.txt': Buffer.concat([Buffer.from(story.slice(0, 200)), Buffer.from([0x93]), Buffer.from(story.slice(200, 400))]),
      'sheet.doc': oleWithStreams(['Workbook']),
      'too-big.txt': Buffer.alloc(maxBytes + 1, 'a'),
    };
    for (const [name, bytes] of Object.entries(files)) await fs.writeFile(path.join(inputs, name), bytes);
    const expectedCodes: Record<string, string> = {
      'blank.txt': 'no-text',
      'bomb.docx': 'file-too-large',
      'cover.txt': 'binary-content',
      'cut.docx': 'corrupt-document',
      'empty.txt': 'empty-file',
      'locked.doc': 'encrypted-document',
      'mixed.txt': 'unreadable-encoding',
      'sheet.doc': 'unsupported-format',
      'too-big.txt': 'file-too-large',
    };

    const out = path.join(dir, 'out');
    const result = await runCli(['run', inputs, '--out', out, '--no-images', '--no-audio', '--no-merge'], {
      DATA_DIR: path.join(dir, 'data'),
      LOG_LEVEL: 'warn',
      UPLOAD_MAX_BYTES: String(maxBytes),
    });

    expect(result.code).toBe(1);
    for (const [name, code] of Object.entries(expectedCodes)) {
      expect(result.stderr).toContain(`✗ ${path.join(inputs, name)}: "${name}"`);
      expect(result.stdout).toContain(`✗ ${path.join(inputs, name)}: not read (${code})`);
    }
    expect(result.stderr).toContain(`"too-big.txt" is 65,537 bytes, more than the 64 KB a file may have`);

    const batch = JSON.parse(await fs.readFile(path.join(out, 'batch.json'), 'utf8'));
    const refused = Object.fromEntries(batch.unreadableFiles.map((u: { file: string; code: string }) => [path.basename(u.file), u.code]));
    expect(refused).toEqual(expectedCodes);
    expect(batch).toMatchObject({ totalFiles: 10, processedFiles: 1, failedFiles: 9 });

    // The Windows-1258 story became the same story as its UTF-8 original.
    const storyMd = await fs.readFile(path.join(out, 'cay_thi_la_1258', 'story.md'), 'utf8');
    expect(storyMd).toBe(`# Sự tích cây thì là\n\n${story.split('\n').slice(2).join('\n')}\n`);
  }, 240_000); // a storyforge process on the embedded database, which opens slowly on a busy machine
});
