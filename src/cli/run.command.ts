import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module.js';
import type { AppConfig } from '../config/config.js';
import type { BatchJob } from '../db/schema.js';
import { PinoLoggerService } from '../logging/pino-logger.js';
import type { StoryStyle } from '../providers/types.js';
import { EventsRepository } from '../repositories/events.repository.js';
import { probeRedis, QueueRepository } from '../repositories/queue.repository.js';
import { UserRepository } from '../repositories/user.repository.js';
import { BatchService, MAX_BATCH_FILES } from '../services/batch.service.js';
import { type BatchDocument, ExportService } from '../services/export.service.js';
import { UploadService } from '../services/upload.service.js';
import { IntakeError } from '../text/intake-error.js';
import { expandInputPaths } from './input-files.js';
import { checkBinaries } from './preflight.js';
import { ProgressDisplay } from './progress-display.js';

export interface RunOptions {
  out: string;
  language?: string;
  genre?: string;
  tone?: string;
  length?: string;
  audience?: string;
  prompt?: string;
  images: boolean;
  audio: boolean;
  merge: boolean;
  /** Render video.mp4 (also implied by `videoPreset` and `burnSubtitles`). */
  video?: boolean;
  videoPreset?: '16:9' | '9:16';
  burnSubtitles?: boolean;
  wordsPerImage?: number;
  wordsPerAudio?: number;
  voice?: string;
}

/** Exit codes of `storyforge run`. */
export const EXIT = { ok: 0, someFailed: 1, usage: 2, interrupted: 130 } as const;

/** Email of the account that owns work done from the command line. */
export const LOCAL_USER_EMAIL = 'local@storyforge.invalid';

interface Unreadable {
  file: string;
  code: string;
  error: string;
}

/**
 * `storyforge run FILES…`: one batch (or several of at most 10 files) in this process, no HTTP.
 * Shows progress, writes one folder per story and `batch.json` under `--out`.
 * @returns the exit code: 0 all stories succeeded, 1 some failed or a file was refused, 2 bad
 * usage or no readable input.
 */
export async function runCommand(inputs: string[], options: RunOptions, config: AppConfig): Promise<number> {
  const video = options.video === true || options.videoPreset !== undefined || options.burnSubtitles === true;
  if (video && !(options.images && options.audio && options.merge)) {
    process.stderr.write('--video needs the images and the merged narration: leave out --no-images, --no-audio and --no-merge.\n');
    return EXIT.usage;
  }
  const files = await expandInputPaths(inputs);
  if (!files.length) {
    process.stderr.write('No story files given (.txt, .doc, .docx).\n');
    return EXIT.usage;
  }
  await checkBinaries(config);
  await probeRedis(config.redisUrl);
  const outDir = path.resolve(options.out);
  await fs.mkdir(outDir, { recursive: true });
  const logFile = path.join(outDir, 'storyforge.log');
  // Embedded PGlite lives in this process only, so its jobs must not reach other workers.
  const runConfig: AppConfig = config.databaseUrl
    ? config
    : { ...config, queuePrefix: `${config.queuePrefix}-run-${randomBytes(4).toString('hex')}` };
  const logger = new PinoLoggerService({ level: config.logLevel, file: logFile });
  const app = await NestFactory.createApplicationContext(AppModule.forRoot({ config: runConfig, workers: true, http: false }), {
    logger,
    abortOnError: false,
  });
  const queues = app.get(QueueRepository);
  const interrupt = new InterruptSignal();
  try {
    const user = await app.get(UserRepository).ensure(LOCAL_USER_EMAIL, 'Command line');
    const uploadService = app.get(UploadService);
    const unreadable: Unreadable[] = [];
    const uploadIds: string[] = [];
    for (const file of files) {
      try {
        // The size limit is checked before the file is read, so a huge file is never loaded.
        uploadService.checkFileSize((await fs.stat(file)).size, path.basename(file));
        const bytes = await fs.readFile(file);
        const upload = await uploadService.ingest({ userId: user.id, fileName: path.basename(file), bytes });
        uploadIds.push(upload.id);
      } catch (error) {
        if (!(error instanceof IntakeError)) throw error;
        unreadable.push({ file, code: error.code, error: error.message });
        process.stderr.write(`✗ ${file}: ${error.message}\n`);
      }
    }
    if (!uploadIds.length) {
      process.stderr.write('None of the files could be read; nothing to do.\n');
      return EXIT.usage;
    }

    const batchService = app.get(BatchService);
    const style: StoryStyle = { genre: options.genre, tone: options.tone, length: options.length, targetAudience: options.audience };
    const batchIds: string[] = [];
    // Several batches when there are more files than one batch takes (UPLOAD_MAX_FILES, at most MAX_BATCH_FILES).
    const perBatch = Math.min(MAX_BATCH_FILES, uploadService.limits.maxFiles);
    for (let i = 0; i < uploadIds.length; i += perBatch) {
      const { batch } = await batchService.create({
        userId: user.id,
        uploadIds: uploadIds.slice(i, i + perBatch),
        style: Object.fromEntries(Object.entries(style).filter(([, v]) => v)) as StoryStyle,
        customPrompt: options.prompt,
        language: options.language,
        autoMode: {
          enabled: true,
          generateImages: options.images,
          generateAudio: options.audio,
          mergeAudio: options.merge,
          renderVideo: video,
          videoPreset: options.videoPreset,
          burnSubtitles: options.burnSubtitles === true,
          audioVoice: options.voice,
          wordPerChunkImage: options.wordsPerImage,
          wordPerChunkAudio: options.wordsPerAudio,
        },
      });
      batchIds.push(batch.id);
    }

    const batches = await waitForBatches(batchService, app.get(EventsRepository), batchIds, interrupt);
    if (!batches) {
      process.stderr.write('\nInterrupted: unfinished stories were not exported. Run the command again to make them.\n');
      return EXIT.interrupted;
    }
    const exporter = app.get(ExportService);
    const usedFolders = new Set<string>();
    const documents: BatchDocument[] = [];
    for (const batch of batches) documents.push(await exporter.exportBatch(batch.id, outDir, usedFolders));
    const summary = {
      status: overallStatus(batches, unreadable.length),
      totalFiles: files.length,
      processedFiles: batches.reduce((sum, b) => sum + b.processedFiles, 0),
      failedFiles: batches.reduce((sum, b) => sum + b.failedFiles, 0) + unreadable.length,
      unreadableFiles: unreadable,
      batches: documents,
    };
    await fs.writeFile(path.join(outDir, 'batch.json'), `${JSON.stringify(summary, null, 2)}\n`);
    printSummary(documents, unreadable, outDir);
    return summary.failedFiles > 0 ? EXIT.someFailed : EXIT.ok;
  } finally {
    interrupt.dispose();
    if (runConfig !== config) await withTimeout(queues.obliterate(), 10_000).catch(() => undefined);
    await withTimeout(app.close(), 30_000).catch(() => undefined);
    logger.flush();
  }
}

/**
 * The first Ctrl-C (SIGINT) or SIGTERM asks the run to stop: progress stops, workers close, the
 * run's private queues are removed. A second one exits at once.
 */
class InterruptSignal {
  readonly controller = new AbortController();
  private readonly handler = () => {
    if (this.controller.signal.aborted) process.exit(EXIT.interrupted);
    this.controller.abort();
  };

  constructor() {
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
  }

  dispose(): void {
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([promise, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref())]);
}

/** Resolves when every batch has ended (undefined when interrupted first), showing progress meanwhile. */
async function waitForBatches(
  service: BatchService,
  events: EventsRepository,
  batchIds: string[],
  interrupt: InterruptSignal,
): Promise<BatchJob[] | undefined> {
  const display = new ProgressDisplay();
  let wake: () => void = () => undefined;
  const unsubscribe = events.subscribe(() => wake());
  try {
    for (;;) {
      if (interrupt.controller.signal.aborted) return undefined;
      const snapshots = await Promise.all(batchIds.map((id) => service.snapshot(id)));
      display.update(snapshots.flatMap((s) => s?.inputs ?? []));
      const ended = snapshots.every((s) => s && s.batch.status !== 'pending' && s.batch.status !== 'processing');
      if (ended) return snapshots.map((s) => s!.batch);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        wake = () => {
          clearTimeout(timer);
          setTimeout(resolve, 150); // coalesce bursts of events
        };
        interrupt.controller.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  } finally {
    unsubscribe();
    display.stop();
  }
}

function overallStatus(batches: BatchJob[], unreadable: number): string {
  const statuses = new Set(batches.map((b) => b.status));
  if (statuses.size === 1 && statuses.has('completed') && unreadable === 0) return 'completed';
  if (statuses.size === 1 && statuses.has('failed')) return 'failed';
  return 'partially_completed';
}

function printSummary(
  documents: BatchDocument[],
  unreadable: Unreadable[],
  outDir: string,
): void {
  const out = process.stdout;
  out.write('\n');
  for (const doc of documents) {
    for (const result of doc.results) {
      if (result.status === 'completed') out.write(`✓ ${result.file} → ${path.join(outDir, result.folder ?? '')}\n`);
      else out.write(`✗ ${result.file}: failed at ${result.failedStep ?? 'a step'}: ${result.error ?? 'unknown error'}\n`);
    }
  }
  for (const item of unreadable) out.write(`✗ ${item.file}: not read (${item.code})\n`);
  out.write(`\nOutputs in ${outDir} (batch.json lists every story; log: ${path.join(outDir, 'storyforge.log')})\n`);
}
