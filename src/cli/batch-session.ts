import fs from 'node:fs/promises';
import path from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app/app.module.js';
import type { AppConfig } from '../config/config.js';
import type { BatchJob } from '../db/schema.js';
import type { Logger } from 'pino';
import { rootLoggerFor, usePinoLogger } from '../logging/pino-logger.js';
import { EventsRepository } from '../repositories/events.repository.js';
import { LiveEventsRepository } from '../repositories/live-events.repository.js';
import { probeRedis, QueueRepository, redisPolicyWarning } from '../repositories/queue.repository.js';
import { BatchService } from '../services/batch.service.js';
import { type BatchDocument, ExportService } from '../services/export.service.js';
import { RecoveryService } from '../services/recovery.service.js';
import { EXIT } from './exit-codes.js';
import { checkBinaries } from './preflight.js';
import { ProgressDisplay } from './progress-display.js';


/** A file that could not be read as a story. */
export interface Unreadable {
  file: string;
  code: string;
  error: string;
}

/**
 * One command-line session that does batch work in this process (`run`, `retry`): the checks
 * before it (ffmpeg, espeak-ng, Redis and its eviction policy), the application with workers, a
 * log file under the output folder, and Ctrl-C handling. The queues are under the database's own
 * prefix, as for `serve`; with embedded PGlite (no other process can use them) they are removed at the end.
 */
export class BatchSession {
  private constructor(
    readonly app: INestApplicationContext,
    readonly outDir: string,
    private readonly logger: Logger,
    private readonly privateQueues: boolean,
    readonly interrupt: InterruptSignal,
  ) {}

  /**
   * Checks the machine, then starts the application with workers.
   * @throws Error saying what is missing (a binary, Redis) and how to get it.
   */
  static async open(config: AppConfig, out: string): Promise<BatchSession> {
    await checkBinaries(config);
    await probeRedis(config.redisUrl);
    // The log goes to a file here, so the warning is written where the user sees it.
    const redisWarning = await redisPolicyWarning(config.redisUrl);
    if (redisWarning) process.stderr.write(`Warning: ${redisWarning}\n`);
    const outDir = path.resolve(out);
    await fs.mkdir(outDir, { recursive: true });
    const logger = rootLoggerFor(config, { file: path.join(outDir, 'storyforge.log') });
    // The queues are the database's own (AppModule prefixes them with its installation id); with
    // embedded PGlite no other process can use them, so they are removed at the end.
    const privateQueues = !config.databaseUrl;
    const app = await NestFactory.createApplicationContext(AppModule.forRoot({ config, workers: true, http: false, logger }), {
      bufferLogs: true,
      abortOnError: false,
    });
    usePinoLogger(app);
    return new BatchSession(app, outDir, logger, privateQueues, new InterruptSignal());
  }

  /**
   * Waits for the batches to end (showing progress), exports every story under the output
   * folder, writes `batch.json` and prints one line per story.
   * On Ctrl-C the batches are cancelled (finished steps are kept for `storyforge retry`).
   * @returns the exit code: 0 all succeeded, 1 some failed, were cancelled or a file was refused,
   * 130 interrupted.
   */
  async finish(batchIds: string[], unreadable: Unreadable[], totalFiles: number): Promise<number> {
    const batches = await this.waitForBatches(batchIds);
    if (!batches) {
      // Cancelled, not left `processing`: `storyforge retry` continues from the finished steps.
      const recovery = this.app.get(RecoveryService);
      for (const id of batchIds) await recovery.cancelBatch(id).catch(() => undefined);
      process.stderr.write(
        `\nInterrupted: the unfinished stories were cancelled and nothing was exported. To finish them: storyforge retry ${batchIds.join(' ')} --out ${this.outDir}\n`,
      );
      return EXIT.interrupted;
    }
    const exporter = this.app.get(ExportService);
    const usedFolders = new Set<string>();
    const documents: BatchDocument[] = [];
    for (const batch of batches) documents.push(await exporter.exportBatch(batch.id, this.outDir, usedFolders));
    const summary = {
      status: overallStatus(batches, unreadable.length),
      totalFiles,
      processedFiles: batches.reduce((sum, b) => sum + b.processedFiles, 0),
      failedFiles: batches.reduce((sum, b) => sum + b.failedFiles, 0) + unreadable.length,
      unreadableFiles: unreadable,
      batches: documents,
    };
    await fs.writeFile(path.join(this.outDir, 'batch.json'), `${JSON.stringify(summary, null, 2)}\n`);
    printSummary(documents, unreadable, this.outDir);
    return summary.failedFiles > 0 || batches.some((b) => b.status === 'cancelled') ? EXIT.someFailed : EXIT.ok;
  }

  /** Stops workers, removes private queues, closes the database and flushes the log. */
  async close(): Promise<void> {
    this.interrupt.dispose();
    if (this.privateQueues) {
      // Workers first, so that no job is added after the private queues are removed.
      const queues = this.app.get(QueueRepository);
      await withTimeout(queues.closeWorkers(), 60_000).catch(() => undefined);
      await withTimeout(queues.obliterate(), 10_000).catch(() => undefined);
      await withTimeout(this.app.get(LiveEventsRepository).clear(), 10_000).catch(() => undefined);
    }
    await withTimeout(this.app.close(), 30_000).catch(() => undefined);
    this.logger.flush();
  }

  /** Resolves when every batch has ended (undefined when interrupted first), showing progress meanwhile. */
  private async waitForBatches(batchIds: string[]): Promise<BatchJob[] | undefined> {
    const service = this.app.get(BatchService);
    const display = new ProgressDisplay();
    const signal = this.interrupt.controller.signal;
    let wake: () => void = () => undefined;
    let stop: () => void = () => undefined;
    const onAbort = () => stop();
    signal.addEventListener('abort', onAbort, { once: true });
    const unsubscribe = this.app.get(EventsRepository).subscribe(() => wake());
    try {
      for (;;) {
        if (signal.aborted) return undefined;
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
          stop = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      unsubscribe();
      display.stop();
    }
  }
}

/**
 * The first Ctrl-C (SIGINT) or SIGTERM asks the session to stop: progress stops, workers close,
 * private queues are removed. A second one exits at once.
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

function overallStatus(batches: BatchJob[], unreadable: number): string {
  const statuses = new Set(batches.map((b) => b.status));
  if (statuses.size === 1 && statuses.has('completed') && unreadable === 0) return 'completed';
  if (statuses.size === 1 && statuses.has('failed')) return 'failed';
  if (statuses.size === 1 && statuses.has('cancelled')) return 'cancelled';
  return 'partially_completed';
}

function printSummary(documents: BatchDocument[], unreadable: Unreadable[], outDir: string): void {
  const out = process.stdout;
  out.write('\n');
  for (const doc of documents) {
    for (const result of doc.results) {
      if (result.status === 'completed') out.write(`✓ ${result.file} → ${path.join(outDir, result.folder ?? '')}\n`);
      else if (result.status === 'cancelled') out.write(`✗ ${result.file}: cancelled\n`);
      else out.write(`✗ ${result.file}: failed at ${result.failedStep ?? 'a step'}: ${result.error ?? 'unknown error'}\n`);
    }
    if (doc.results.some((r) => r.status !== 'completed')) {
      out.write(`  To run what did not finish again: storyforge retry ${doc.id} --out ${outDir}\n`);
    }
  }
  for (const item of unreadable) out.write(`✗ ${item.file}: not read (${item.code})\n`);
  out.write(`\nOutputs in ${outDir} (batch.json lists every story; log: ${path.join(outDir, 'storyforge.log')})\n`);
}
