import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The web page: Preact (JSX through esbuild), built into dist/web, served by `storyforge serve` at `/`. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    proxy: Object.fromEntries(
      ['/auth', '/stories', '/file-upload', '/images', '/audio', '/providers', '/voices', '/socket.io', '/health'].map((p) => [
        p,
        { target: process.env.STORYFORGE_URL ?? 'http://127.0.0.1:3000', ws: p === '/socket.io' },
      ]),
    ),
  },
});
