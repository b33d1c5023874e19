/**
 * `npm run bench`: B1–B6 one after the other, each in a process of its own, then their figures
 * against the targets into bench/RESULTS.md (the section between the `npm run bench` markers is
 * replaced; the rest of the file stays), with the date, the cores and the load average.
 *
 *   npm run bench                 # all
 *   npm run bench -- --only B1,B3 # some
 *
 * Each benchmark repeats its measurement and reports the median; see the header of each file.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg, type BenchResult, load1, POSTGRES_URL, ROOT } from './support.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BENCHES: { id: string; file: string; args: string[] }[] = [
  { id: 'B1', file: 'b1-orchestration.js', args: ['--repeat', '2'] },
  { id: 'B2', file: 'b2-overhead.js', args: ['--repeat', '3'] },
  { id: 'B3', file: 'b3-media.js', args: ['--repeat', '2'] },
  { id: 'B4', file: 'batch-status.js', args: ['--database-url', POSTGRES_URL, '--seconds', '5', '--rounds', '3', '--connections', '10', '--words', '60'] },
  { id: 'B5', file: 'b5-memory-intake.js', args: [] },
  // About two minutes on an idle machine: 4 stories of 150 words, once with 1 worker process, once with 2.
  { id: 'B6', file: 'b6-workers.js', args: ['--database-url', POSTGRES_URL, '--stories', '4', '--words', '150'] },
];
const only = arg('only')?.split(',');
const START = '<!-- npm run bench: start -->';
const END = '<!-- npm run bench: end -->';

function runOne(file: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(here, file), ...args], { stdio: 'inherit' });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

const started = Date.now();
const loadBefore = load1();
const results: BenchResult[] = [];
const failures: string[] = [];
for (const bench of BENCHES.filter((b) => !only || only.includes(b.id))) {
  const resultFile = path.join(os.tmpdir(), `storyforge-bench-${bench.id}-${process.pid}.json`);
  const t0 = Date.now();
  process.stderr.write(`\n== ${bench.id} (${bench.file}), load ${load1()}\n`);
  const code = await runOne(bench.file, [...bench.args, '--result', resultFile]);
  process.stderr.write(`== ${bench.id} ended (exit ${code}) in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  try {
    results.push(JSON.parse(await fs.readFile(resultFile, 'utf8')) as BenchResult);
  } catch {
    failures.push(`${bench.id} (${bench.file}) ended with exit code ${code} and no result`);
  }
  await fs.rm(resultFile, { force: true });
}

const minutes = (Date.now() - started) / 60_000;
const cpu = os.cpus();
const ffmpeg = execFileSync('ffmpeg', ['-version'], { encoding: 'utf8' }).split(' Copyright')[0];
const lines = [
  START,
  `## \`npm run bench\`, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  '',
  `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${ffmpeg}. ` +
    `Load average (1 min) ${loadBefore} at the start, ${load1()} at the end; the whole run took ${minutes.toFixed(1)} minutes. ` +
    'Every figure is a ratio or a rate measured within one run (the median of its repeats); the load before each measurement is shown beside it.',
  '',
  '| | figure | measured | target | met | load before |',
  '| --- | --- | --- | --- | --- | --- |',
  ...results.flatMap((r) =>
    r.figures.map((f) => `| ${r.id} ${r.title} | ${f.name} | **${f.shown}** | ${f.target ?? '–'} | ${f.met === undefined ? '' : f.met ? 'yes' : 'no'} | ${f.load.join(', ')} |`),
  ),
  ...(failures.length ? ['', ...failures.map((f) => `- ${f}`)] : []),
  '',
  ...results.flatMap((r) => [`### ${r.id} ${r.title}`, '', ...r.details, '']),
  END,
];
const resultsFile = path.join(ROOT, 'bench/RESULTS.md');
const current = await fs.readFile(resultsFile, 'utf8');
const at = current.indexOf(START);
const until = current.indexOf(END);
const section = lines.join('\n');
const next =
  at >= 0 && until > at
    ? `${current.slice(0, at)}${section}${current.slice(until + END.length)}`
    : current.replace(/\n## /, `\n${section}\n\n## `);
await fs.writeFile(resultsFile, next);
process.stderr.write(`\nbench/RESULTS.md updated (${minutes.toFixed(1)} minutes)\n`);
if (failures.length) process.exitCode = 1;
