import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';

/**
 * Content-Security-Policy of the web page: everything from this origin only (scripts, styles,
 * media, the Socket.IO connection), no inline script or style, no frames, no plugins. Images and
 * media may also be `blob:` (local previews).
 */
export const WEB_PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Page addresses the web page answers with its index.html (the page routes itself). None clashes with an API route. */
const PAGE_ROUTES = [/^\/$/, /^\/login$/, /^\/register$/, /^\/new$/, /^\/history$/, /^\/batch\/[^/]+$/, /^\/story\/[^/]+$/];

/**
 * The folder of the built web page (`npm run build` writes it to dist/web), or undefined when it
 * has not been built. Looked up next to the compiled server (dist/app → dist/web), or from the
 * sources (src/app → dist/web) when the server runs from TypeScript in tests.
 */
export function webPageDir(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.join(here, '..', 'web'), path.join(here, '..', '..', 'dist', 'web')]) {
    if (existsSync(path.join(candidate, 'index.html'))) return candidate;
  }
  return undefined;
}

/**
 * Serves the web page at `/`: the page routes (`/`, `/login`, `/new`, `/history`, `/batch/:id`,
 * `/story/:id`) answer index.html, `/assets/*` the built files (cached for a year: their names
 * carry a content hash), the few files beside index.html (the icon) by name; all with
 * {@link WEB_PAGE_CSP}. Any other path goes on to the API without a disk lookup. Does nothing when
 * the page is not built.
 * Call before the API's routes are registered (before `init`/`listen`).
 */
export function serveWebPage(app: NestExpressApplication, dir = webPageDir()): void {
  if (!dir) return;
  const index = path.join(dir, 'index.html');
  // The few files beside index.html (favicon …), known at start: API requests never touch the disk here.
  const rootFiles = new Set(
    readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name !== 'index.html')
      .map((entry) => `/${entry.name}`),
  );
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (PAGE_ROUTES.some((route) => route.test(req.path))) {
      pageHeaders(res);
      res.setHeader('Cache-Control', 'no-cache');
      return res.sendFile(index);
    }
    if (rootFiles.has(req.path)) {
      pageHeaders(res);
      return res.sendFile(path.join(dir, req.path.slice(1)));
    }
    next();
  });
  app.useStaticAssets(path.join(dir, 'assets'), {
    prefix: '/assets/',
    index: false,
    immutable: true,
    maxAge: '365d',
    setHeaders: (res) => pageHeaders(res as unknown as Response),
  });
}

function pageHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', WEB_PAGE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
}
