import fs from 'node:fs/promises';
import path from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import type { AutoModeConfig, BatchJob, StoryProviders } from '../../src/db/schema.js';
import { UserRepository } from '../../src/repositories/user.repository.js';
import { BatchRepository } from '../../src/repositories/batch.repository.js';
import { BatchService } from '../../src/services/batch.service.js';
import { IntakeService } from '../../src/services/intake.service.js';
import { waitFor } from './test-app.js';

/** Uploads files as a test user, creates a batch from them, and waits until the batch has ended. */
export async function runBatch(
  app: INestApplicationContext,
  files: string[],
  options: { language?: string; autoMode?: Partial<AutoModeConfig>; providers?: StoryProviders; timeoutMs?: number } = {},
): Promise<BatchJob> {
  const user = await app.get(UserRepository).ensure('tester@storyforge.invalid', 'Tester');
  const uploads = [];
  for (const file of files) {
    uploads.push(
      await app.get(IntakeService).ingest({ userId: user.id, fileName: path.basename(file), bytes: await fs.readFile(file) }),
    );
  }
  const { batch } = await app.get(BatchService).create({
    userId: user.id,
    uploadIds: uploads.map((u) => u.id),
    language: options.language,
    autoMode: options.autoMode,
    providers: options.providers,
  });
  const batches = app.get(BatchRepository);
  return waitFor(
    async () => {
      const current = await batches.get(batch.id);
      return current && current.status !== 'pending' && current.status !== 'processing' ? current : undefined;
    },
    options.timeoutMs ?? 180_000,
    `batch ${batch.id} to end`,
  );
}
