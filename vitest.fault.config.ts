import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// The fault suite (test/fault): real serve/worker processes, real Redis and PostgreSQL, injected
// faults. Files run one after another (they start processes and time them); `npm run build` first.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['test/fault/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
