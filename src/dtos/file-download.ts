import type { Writable } from 'node:stream';
import type { StorageRepository } from '../repositories/storage.repository.js';

/** What a service returns for a download; the HTTP layer (src/http/send-file.ts) sends it. */

/** A stored file to send: its storage and key, its media type, and the name the client should see. */
export interface FileResponse {
  storage: Pick<StorageRepository, 'download'>;
  key: string;
  contentType: string;
  fileName: string;
  /** `inline` for media a browser plays or shows, `attachment` to save. */
  disposition: 'inline' | 'attachment';
}

/** Files to put in a ZIP, and the archive's name. */
export interface ZipResponse {
  fileName: string;
  storage: Pick<StorageRepository, 'openRead'>;
  /** Storage keys and their names inside the ZIP. */
  entries: { key: string; name: string }[];
}

/** A ZIP made by a service that writes it into a stream (e.g. PackageService). */
export interface StreamedZip {
  fileName: string;
  write(output: Writable): Promise<unknown>;
}
