import type { Provider } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { LocalStorageRepository } from './local-storage.repository.js';
import { S3StorageRepository } from './s3-storage.repository.js';
import { StorageRepository } from './storage.repository.js';

/** The storage driver STORAGE_DRIVER names: a local folder, or an S3 bucket. */
export function createStorage(config: Pick<AppConfig, 'dataDir' | 'storage'>): StorageRepository {
  return config.storage.driver === 's3' ? new S3StorageRepository(config.storage.s3!) : new LocalStorageRepository(config);
}

/** Nest provider of {@link StorageRepository}, by the configuration. */
export const storageProvider: Provider = {
  provide: StorageRepository,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig) => createStorage(config),
};
