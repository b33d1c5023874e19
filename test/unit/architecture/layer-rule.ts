import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The layers of src/, lowest first. A file may import from its own layer and from lower ones,
 * never from a higher one. Each entry lists the folders (or single files) of src/ it holds;
 * docs/architecture.md ("Layers") says what each holds.
 */
export const LAYERS: readonly { name: string; paths: readonly string[] }[] = [
  { name: 'shared', paths: ['shared/'] },
  { name: 'config', paths: ['config/'] },
  { name: 'logging', paths: ['logging/', 'observability/'] },
  { name: 'db', paths: ['db/'] },
  { name: 'text', paths: ['text/'] },
  { name: 'media', paths: ['media/'] },
  { name: 'providers', paths: ['providers/'] },
  { name: 'repositories', paths: ['repositories/'] },
  { name: 'pipeline', paths: ['pipeline/'] },
  { name: 'dtos', paths: ['dtos/'] },
  { name: 'services', paths: ['services/'] },
  { name: 'http', paths: ['http/', 'controllers/', 'gateways/', 'auth/'] },
  { name: 'app', paths: ['app/'] },
  { name: 'cli', paths: ['cli/', 'cli.ts'] },
];

/** One import of a file of src/ from another, both relative to src/ (`services/batch.service.ts`). */
export interface ImportEdge {
  from: string;
  to: string;
}

/** A file importing from a higher layer. */
export interface LayerViolation extends ImportEdge {
  fromLayer: string;
  toLayer: string;
}

/**
 * The layer a file of src/ belongs to (its path relative to src/, with `/` separators).
 * @throws Error for a file no layer holds: a new folder must be placed in {@link LAYERS}.
 */
export function layerOf(file: string): { name: string; rank: number } {
  const rank = LAYERS.findIndex((layer) => layer.paths.some((entry) => (entry.endsWith('/') ? file.startsWith(entry) : file === entry)));
  if (rank < 0) throw new Error(`src/${file} is in no layer: add its folder to LAYERS in test/unit/architecture/layer-rule.ts`);
  return { name: LAYERS[rank]!.name, rank };
}

/** Every .ts file under `dir`, relative to it, sorted. */
export function sourceFiles(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .map((file) => file.split(path.sep).join('/'))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .sort();
}

/**
 * The relative imports of one file's text (static imports, `export … from`, `import type`,
 * dynamic `import('…')` and `typeof import('…')`), read by the TypeScript scanner, resolved to
 * paths relative to the source root: `./x.js` in `services/a.ts` → `services/x.ts`.
 */
export function importsOf(file: string, text: string): string[] {
  const found = ts.preProcessFile(text, true, true).importedFiles.map((entry) => entry.fileName);
  // preProcessFile does not report `typeof import('…')` in type positions.
  for (const match of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(match[1]!);
  const targets = new Set<string>();
  for (const specifier of found) {
    if (!specifier.startsWith('.')) continue;
    const joined = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
    targets.add(joined.replace(/\.js$/, '.ts'));
  }
  return [...targets].sort();
}

/** Every relative import among `files` (path → text), as edges. */
export function importEdges(files: ReadonlyMap<string, string>): ImportEdge[] {
  return [...files].flatMap(([from, text]) => importsOf(from, text).map((to) => ({ from, to })));
}

/** The edges that go from a lower layer to a higher one. */
export function layerViolations(edges: readonly ImportEdge[]): LayerViolation[] {
  return edges.flatMap((edge) => {
    const from = layerOf(edge.from);
    const to = layerOf(edge.to);
    return to.rank > from.rank ? [{ ...edge, fromLayer: from.name, toLayer: to.name }] : [];
  });
}

/**
 * The import cycles among the files (Tarjan's strongly connected components): each cycle is the
 * sorted list of files that reach each other, so a file importing itself is one too.
 */
export function importCycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let counter = 0;
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of next.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (next.get(node) ?? []).includes(node)) cycles.push(component.sort());
  };
  for (const node of [...next.keys()].sort()) if (!index.has(node)) visit(node);
  return cycles;
}
