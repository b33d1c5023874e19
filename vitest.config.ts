import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// SWC compiles the sources so that NestJS decorators keep their metadata under test.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/fault/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
