import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ImportEdge, importCycles, importEdges, importsOf, layerOf, layerViolations, sourceFiles } from './layer-rule.js';

const SRC = path.resolve(import.meta.dirname, '../../../src');

/**
 * Upward imports still waiting for the pipeline catalog (one described list of steps that the
 * worker, the orchestrator, the reconciler and rollback are derived from). Remove an entry as soon
 * as its import is gone: a stale entry fails the test. Every other upward import is an error.
 */
const ALLOWED_UPWARD: readonly ImportEdge[] = [
  // The worker and the step runner hand finished steps to the orchestrator and refresh batches.
  { from: 'pipeline/pipeline.worker.ts', to: 'services/batch.service.ts' },
  { from: 'pipeline/pipeline.worker.ts', to: 'services/orchestrator.service.ts' },
  { from: 'pipeline/step-runner.service.ts', to: 'services/orchestrator.service.ts' },
  // The merge and video steps use the timeline and presentation services.
  { from: 'pipeline/steps/merge.step.ts', to: 'services/timeline.service.ts' },
  { from: 'pipeline/steps/video.step.ts', to: 'services/presentation.service.ts' },
  { from: 'pipeline/steps/video.step.ts', to: 'services/timeline.service.ts' },
];

/**
 * Files whose upward imports may be allow-listed: src/pipeline/ and the four pipeline-facing
 * services (orchestrator, reconciler, rollback, requested steps). The rest of src/ gets no exceptions.
 */
const MAY_BE_ALLOWED = (edge: ImportEdge) =>
  edge.from.startsWith('pipeline/') ||
  ['services/orchestrator.service.ts', 'services/reconciler.service.ts', 'services/rollback.service.ts', 'services/requested-steps.ts'].includes(edge.from);

const same = (a: ImportEdge) => (b: ImportEdge) => a.from === b.from && a.to === b.to;
const describeEdge = (edge: ImportEdge & { fromLayer?: string; toLayer?: string }) =>
  `src/${edge.from} (${edge.fromLayer ?? layerOf(edge.from).name}) imports src/${edge.to} (${edge.toLayer ?? layerOf(edge.to).name})`;

function readSources(): Map<string, string> {
  return new Map(sourceFiles(SRC).map((file) => [file, fs.readFileSync(path.join(SRC, file), 'utf8')]));
}

describe('layer rule of src/', () => {
  const files = readSources();
  const edges = importEdges(files);

  it('reads the imports of every source file', () => {
    expect(files.size).toBeGreaterThan(100);
    expect(edges.length).toBeGreaterThan(300);
    for (const edge of edges) expect(files.has(edge.to), `${edge.from} imports a missing file ${edge.to}`).toBe(true);
  });

  it('places every source file in a layer', () => {
    for (const file of files.keys()) expect(() => layerOf(file)).not.toThrow();
  });

  it('has no import from a lower layer to a higher one outside the allow-list', () => {
    const unexpected = layerViolations(edges).filter((violation) => !ALLOWED_UPWARD.some(same(violation)));
    expect(unexpected.map(describeEdge)).toEqual([]);
  });

  it('keeps the allow-list to the pipeline and its services, and every entry still needed', () => {
    const violations = layerViolations(edges);
    for (const allowed of ALLOWED_UPWARD) {
      expect(MAY_BE_ALLOWED(allowed), `${describeEdge(allowed)} may not be allow-listed`).toBe(true);
      expect(violations.some(same(allowed)), `${describeEdge(allowed)} is fixed: remove it from ALLOWED_UPWARD`).toBe(true);
    }
  });

  it('has no circular imports', () => {
    const kept = edges.filter((edge) => !ALLOWED_UPWARD.some(same(edge)));
    expect(importCycles(kept)).toEqual([]);
  });
});

describe('layer rule checks', () => {
  it('reports an upward import with both files and layers', () => {
    const files = new Map([
      ['db/schema.ts', "import { StoryStyle } from '../shared/story-style.js';"],
      ['providers/card.ts', "import type { MediaRepository } from '../repositories/media.repository.js';"],
      ['repositories/media.repository.ts', "import { MediaCommandError } from '../media/media-command-error.js';\nexport * from '../providers/card.js';"],
      ['media/media-command-error.ts', ''],
      ['shared/story-style.ts', ''],
    ]);
    expect(layerViolations(importEdges(files)).map(describeEdge)).toEqual([
      'src/providers/card.ts (providers) imports src/repositories/media.repository.ts (repositories)',
    ]);
  });

  it('reads type imports, re-exports and dynamic imports, and ignores packages', () => {
    const text = [
      "import type { A } from './a.js';",
      "export { B } from '../b/b.js';",
      "const c = await import('./c.js');",
      "type D = typeof import('../d.js');",
      "import { z } from 'zod';",
    ].join('\n');
    expect(importsOf('services/x.ts', text)).toEqual(['b/b.ts', 'd.ts', 'services/a.ts', 'services/c.ts']);
  });

  it('finds an import cycle and a file outside every layer', () => {
    const edges: ImportEdge[] = [
      { from: 'services/a.ts', to: 'services/b.ts' },
      { from: 'services/b.ts', to: 'services/c.ts' },
      { from: 'services/c.ts', to: 'services/a.ts' },
      { from: 'services/c.ts', to: 'db/schema.ts' },
    ];
    expect(importCycles(edges)).toEqual([['services/a.ts', 'services/b.ts', 'services/c.ts']]);
    expect(() => layerOf('widgets/x.ts')).toThrow(/no layer/);
  });
});
