import type { Writable } from 'node:stream';
import type { Response } from 'express';
import { ZipArchive } from 'archiver';
import { ApiError } from './api-error.js';

/** A stored file to send: where it is, its media type, and the name the client should see. */
export interface FileResponse {
  /** Absolute local path. */
  path: string;
  contentType: string;
  fileName: string;
  /** `inline` for media a browser plays or shows, `attachment` to save. */
  disposition: 'inline' | 'attachment';
}

/** Files to put in a ZIP, and the archive's name. */
export interface ZipResponse {
  fileName: string;
  entries: { path: string; name: string }[];
}

/** `Content-Disposition` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / 5987). */
export function contentDisposition(fileName: string, disposition: 'inline' | 'attachment'): string {
  const fallback = fileName.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${disposition}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/**
 * Sends a stored file with its media type, ETag and Last-Modified, answering range requests
 * (`206 Partial Content`, `416` when unsatisfiable) and conditional requests, through Express's
 * `send`. The service decides which file; this only transports it.
 * @throws ApiError 404 when the file is missing from storage, 416 for an unsatisfiable range.
 */
export async function sendFile(res: Response, load: () => Promise<FileResponse>): Promise<void> {
  const file = await load();
  res.setHeader('Content-Type', file.contentType);
  res.setHeader('Content-Disposition', contentDisposition(file.fileName, file.disposition));
  res.setHeader('Cache-Control', 'private, no-cache');
  await new Promise<void>((resolve, reject) => {
    res.sendFile(file.path, { acceptRanges: true, dotfiles: 'allow', etag: true, lastModified: true }, (error?: Error) => {
      if (!error) return resolve();
      const status = (error as { status?: number }).status;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ECONNABORTED' || code === 'ECONNRESET' || res.destroyed) return resolve(); // the client went away
      if (res.headersSent) return reject(error);
      if (status === 416) {
        const range = (error as { headers?: Record<string, string> }).headers?.['Content-Range'];
        if (range) res.setHeader('Content-Range', range);
        return reject(new ApiError(416, 'range-not-satisfiable', 'The requested range is outside the file'));
      }
      if (status === 404 || code === 'ENOENT') return reject(new ApiError(404, 'not-found', 'The file is not in storage'));
      reject(error);
    });
  });
}

/**
 * Streams a ZIP of stored files (stored, not compressed: images are compressed already), with
 * the entries in the order given. The archive is written while it is read; nothing is buffered whole.
 */
export async function sendZip(res: Response, load: () => Promise<ZipResponse>): Promise<void> {
  const zip = await load();
  res.setHeader('Content-Type', 'application/zip');
  res.setHeader('Content-Disposition', contentDisposition(zip.fileName, 'attachment'));
  res.setHeader('Cache-Control', 'private, no-cache');
  // One stat at a time keeps the entries in the order given (archiver stats files in parallel).
  const archive = new ZipArchive({ store: true, statConcurrency: 1 });
  await new Promise<void>((resolve, reject) => {
    archive.on('error', (error) => {
      res.destroy(error);
      reject(error);
    });
    res.on('close', () => resolve());
    archive.pipe(res);
    for (const entry of zip.entries) archive.file(entry.path, { name: entry.name });
    archive.finalize().catch(reject);
  });
}

/** A ZIP made by a service that writes it into a stream (e.g. PackageService). */
export interface StreamedZip {
  fileName: string;
  write(output: Writable): Promise<unknown>;
}

/** Sends a ZIP that the service streams itself; headers first, then the archive as it is written. */
export async function sendStreamedZip(res: Response, load: () => Promise<StreamedZip>): Promise<void> {
  const zip = await load();
  res.setHeader('Content-Type', 'application/zip');
  res.setHeader('Content-Disposition', contentDisposition(zip.fileName, 'attachment'));
  res.setHeader('Cache-Control', 'private, no-cache');
  try {
    await zip.write(res);
  } catch (error) {
    res.destroy(error as Error);
  }
}
