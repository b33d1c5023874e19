import path from 'node:path';
import type { AppConfig } from './config.js';

/** Folder where uploads land while they are received: `DATA_DIR/tmp/uploads`. */
export function uploadTempDir(config: AppConfig): string {
  return path.join(config.dataDir, 'tmp', 'uploads');
}
