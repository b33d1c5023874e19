import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import { ZipArchive } from 'archiver';
import type { FileResponse, StreamedZip, ZipResponse } from '../dtos/file-download.js';
import { ApiError } from '../shared/api-error.js';

/** `Content-Disposition` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / 5987). */
export function contentDisposition(fileName: string, disposition: 'inline' | 'attachment'): string {
  const fallback = fileName.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${disposition}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/**
 * Sends a stored file with its media type, ETag and Last-Modified, answering range requests
 * (`206 Partial Content`, `416` when unsatisfiable) and conditional requests (`304`). A file in a
 * local folder goes through Express's `send`; one in a bucket is streamed from it with the range
 * and conditions handed on, or answered with a redirect to a presigned URL (S3_PRESIGNED_DOWNLOADS).
 * The service decides which file; this only transports it.
 * @throws ApiError 404 when the file is missing from storage, 416 for an unsatisfiable range.
 */
export async function sendFile(res: Response, load: () => Promise<FileResponse>): Promise<void> {
  const file = await load();
  const disposition = contentDisposition(file.fileName, file.disposition);
  const req = res.req as Request;
  try {
    const download = await file.storage.download(file.key, {
      range: req.headers.range,
      ifNoneMatch: req.headers['if-none-match'],
      ifModifiedSince: req.headers['if-modified-since'],
      contentType: file.contentType,
      contentDisposition: disposition,
    });
    if (download.kind === 'redirect') {
      res.setHeader('Cache-Control', 'private, no-store');
      return res.redirect(302, download.url);
    }
    res.setHeader('Content-Type', file.contentType);
    res.setHeader('Content-Disposition', disposition);
    res.setHeader('Cache-Control', 'private, no-cache');
    if (download.kind === 'file') return await sendLocalFile(res, download.path);
    res.status(download.status);
    for (const [name, value] of Object.entries(download.headers)) res.setHeader(name, value);
    if (!download.body || req.method === 'HEAD') {
      download.body?.destroy();
      res.end();
      return;
    }
    await pipeline(download.body, res).catch((error: NodeJS.ErrnoException) => {
      if (res.destroyed || error.code === 'ERR_STREAM_PREMATURE_CLOSE') return; // the client went away
      throw error;
    });
  } catch (error) {
    throw downloadError(res, error);
  }
}

/** Express `send` of a local file (ranges, ETag, conditions). */
function sendLocalFile(res: Response, file: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    res.sendFile(file, { acceptRanges: true, dotfiles: 'allow', etag: true, lastModified: true }, (error?: Error) => {
      if (!error) return resolve();
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ECONNABORTED' || code === 'ECONNRESET' || res.destroyed) return resolve(); // the client went away
      reject(error);
    });
  });
}

/** The API error of a failed download: 404 for a missing file, 416 (with `Content-Range`) for a range outside it. */
function downloadError(res: Response, error: unknown): unknown {
  if (error instanceof ApiError || res.headersSent) return error;
  const status = (error as { status?: number }).status;
  const code = (error as NodeJS.ErrnoException).code;
  if (status === 416) {
    const range = (error as { headers?: Record<string, string> }).headers?.['Content-Range'];
    if (range) res.setHeader('Content-Range', range);
    return new ApiError(416, 'range-not-satisfiable', 'The requested range is outside the file');
  }
  if (status === 404 || code === 'ENOENT') return new ApiError(404, 'not-found', 'The file is not in storage');
  return error;
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
  const archive = new ZipArchive({ store: true });
  await new Promise<void>((resolve, reject) => {
    archive.on('error', (error) => {
      res.destroy(error);
      reject(error);
    });
    res.on('close', () => resolve());
    archive.pipe(res);
    const date = new Date();
    for (const entry of zip.entries) archive.append(zip.storage.openRead(entry.key), { name: entry.name, date });
    archive.finalize().catch(reject);
  });
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
