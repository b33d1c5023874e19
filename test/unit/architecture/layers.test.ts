import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ImportEdge, importCycles, importEdges, importsOf, layerOf, layerViolations, sourceFiles } from './layer-rule.js';

const SRC = path.resolve(import.meta.dirname, '../../../src');

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

  it('has no import from a lower layer to a higher one', () => {
    expect(layerViolations(edges).map(describeEdge)).toEqual([]);
  });

  it('has no circular imports', () => {
    expect(importCycles(edges)).toEqual([]);
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
