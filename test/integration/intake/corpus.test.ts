import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UploadRepository } from '../../../src/repositories/upload.repository.js';
import { UserRepository } from '../../../src/repositories/user.repository.js';
import { IntakeService } from '../../../src/services/intake.service.js';
import { IntakeError, INTAKE_ERROR_HTTP_STATUS } from '../../../src/text/intake-error.js';
import { allSamplePaths, BOMB_MEGABYTES, generatedCases, type IntakeCase, sampleCases, zipBomb } from '../../support/intake-corpus.js';
import { localStorageOf, startTestApp, type TestApp } from '../../support/test-app.js';

/**
 * The intake corpus at the service level: every bundled sample and every generated case goes
 * through IntakeService.ingest on a real database and storage folder, and must give its expected
 * text (stored with its format, encoding and name) or its expected refusal (nothing stored).
 */
describe('intake corpus through IntakeService', () => {
  let t: TestApp;
  let service: IntakeService;
  let userId: string;

  beforeAll(async () => {
    t = await startTestApp({ database: 'postgres' });
    service = t.app.get(IntakeService);
    userId = (await t.app.get(UserRepository).ensure('intake-corpus@storyforge.invalid', 'Intake corpus')).id;
  });
  afterAll(async () => {
    await t?.close();
  });

  const storedUploads = async () => fs.readdir(path.join(localStorageOf(t.app).root, 'uploads')).catch(() => [] as string[]);

  describe('zip bombs are refused fast, in bounded memory', () => {
    // First in the file, so that the memory figures are not blurred by the other cases.
    it.each([
      ['declares its 400 MB', {}, 'file-too-large'],
      ['hides its size in the central directory', { lie: true }, 'corrupt-document'],
    ] as const)('a .docx whose document.xml is 400 MB of zeros and %s', async (_how, options, code) => {
      const bomb = zipBomb(options);
      expect(bomb.length).toBeLessThan(1024 * 1024);
      const rssBefore = process.memoryUsage().rss;
      const maxRssBefore = process.resourceUsage().maxRSS * 1024;
      const started = performance.now();
      const error = await service.ingest({ userId, fileName: 'bomb.docx', bytes: bomb }).catch((e: unknown) => e);
      const elapsed = performance.now() - started;
      const rssGrowth = process.memoryUsage().rss - rssBefore;
      const peakGrowth = process.resourceUsage().maxRSS * 1024 - maxRssBefore;

      expect(error).toBeInstanceOf(IntakeError);
      expect((error as IntakeError).code).toBe(code);
      expect((error as IntakeError).message).toMatch(/^"bomb\.docx" /);
      const unpacked = BOMB_MEGABYTES * 1024 * 1024;
      expect(rssGrowth).toBeLessThan(unpacked / 10);
      expect(peakGrowth).toBeLessThan(unpacked / 10);
      expect(elapsed).toBeLessThan(1000);
      console.info(`zip bomb (${_how}): refused as ${code} in ${elapsed.toFixed(0)} ms; RSS +${(rssGrowth / 2 ** 20).toFixed(1)} MB, peak +${(peakGrowth / 2 ** 20).toFixed(1)} MB`);
    });
  });

  it('has an expectation for every bundled sample', () => {
    expect(sampleCases().map((c) => c.label)).toEqual(allSamplePaths().map((p) => `sample ${p}`));
    expect(allSamplePaths().length).toBeGreaterThanOrEqual(18);
  });

  const cases: IntakeCase[] = [...sampleCases(), ...generatedCases(10 * 1024 * 1024)];

  it.each(cases.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    const bytes = c.bytes();
    const expected = c.expected;
    if ('code' in expected) {
      const before = await storedUploads();
      const error = await service.ingest({ userId, fileName: c.fileName, bytes }).catch((e: unknown) => e);
      expect(error, `${c.label} must be refused`).toBeInstanceOf(IntakeError);
      const refusal = error as IntakeError;
      expect(refusal.code).toBe(expected.code);
      expect(refusal.fileName).toBe(c.fileName.normalize('NFC'));
      expect(refusal.message).toContain(`"${c.fileName.normalize('NFC')}"`);
      expect(INTAKE_ERROR_HTTP_STATUS[refusal.code]).toBe(refusal.httpStatus);
      expect(await storedUploads()).toEqual(before);
      return;
    }
    const upload = await service.ingest({ userId, fileName: c.fileName, bytes });
    expect(upload.text).toBe(expected.text);
    expect(upload.format).toBe(expected.format);
    expect(upload.encoding).toBe(expected.encoding);
    expect(upload.originalName).toBe(expected.name ?? c.fileName);
    expect(upload.originalName).toBe(upload.originalName.normalize('NFC'));
    expect(upload.sizeBytes).toBe(bytes.length);
    // Stored under a server-made name, byte for byte; the row (with its encoding) is in the database.
    expect(upload.storageKey).toBe(`uploads/${upload.id}/original.${expected.format}`);
    expect((await fs.readFile(localStorageOf(t.app).pathOf(upload.storageKey))).equals(bytes)).toBe(true);
    expect(await t.app.get(UploadRepository).get(upload.id)).toMatchObject({ text: expected.text, encoding: expected.encoding, originalName: upload.originalName });
  });

  it('done-when: every encodings/ sample decodes to exactly the text of stories/vi/vi_su_tich_ho_ba_be.txt', async () => {
    const texts = await Promise.all(
      cases
        .filter((c) => c.label.startsWith('sample encodings/'))
        .map(async (c) => (await service.ingest({ userId, fileName: c.fileName, bytes: c.bytes() })).text),
    );
    expect(texts).toHaveLength(3);
    const story = (await fs.readFile(path.resolve('test/fixtures/samples/stories/vi/vi_su_tich_ho_ba_be.txt'), 'utf8')).trimEnd();
    for (const text of texts) expect(text).toBe(story);
  });

  it('11 files in one request → too-many-files (400); 10 are fine', () => {
    expect(() => service.checkFileCount(10)).not.toThrow();
    let error: unknown;
    try {
      service.checkFileCount(11);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IntakeError);
    expect(error).toMatchObject({ code: 'too-many-files', httpStatus: 400 });
    expect((error as IntakeError).message).toBe('11 files were sent; one batch takes at most 10. Send the others in another batch.');
  });

  it('the size limit can be checked before a file is read, with its name', () => {
    expect(() => service.checkFileSize(10 * 1024 * 1024, 'a.txt')).not.toThrow();
    expect(() => service.checkFileSize(10 * 1024 * 1024 + 1, 'Truyện.docx'.normalize('NFD'))).toThrow(
      '"Truyện.docx" is 10,485,761 bytes, more than the 10 MB a file may have; split the story into smaller files.',
    );
  });
});
