/**
 * B5 memory, intake and start-up, with the embedded database (PGlite) and with PostgreSQL:
 *
 * - start-up: `storyforge serve` from spawn to `GET /ready` answering 200, on a new DATA_DIR /
 *   database (migrations run) and again on the same one;
 * - intake over HTTP (`POST /file-upload/upload`, one file): a 2 MB .txt and a 10 MB .docx (1.5 M
 *   characters of text and a 9 MB image), MB per second of the request (median of 3); target ≥ 5 MB/s;
 * - heap growth of the server (`nodejs_heap_size_used_bytes` from /metrics, polled) while 10
 *   uploads of the 10 MB .docx run at once; target ≤ 50 MB;
 * - a 10 MB .txt with more than 2,000,000 characters: time until it is refused (413);
 * - peak RSS of `storyforge run` (GNU time, largest resident set of the process tree) on 50 short
 *   stories (fake providers, zero latency: text, images, audio, no merge); target ≤ 300 MB.
 *
 * `--only intake` leaves out the `storyforge run` figures (start-up and intake only).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { docxPackageParts, documentXml, paragraph, zip } from '../test/support/zip.js';
import { arg, DIST, englishSentences, fakeProviderEnv, figure, type Figure, freePort, load1, POSTGRES_URL, privateDatabase, report, startFakeProviders, storyTexts, waitFor } from './support.js';

const run = promisify(execFile);
const MB = 1024 * 1024;

/** English sample text repeated to about `chars` characters. */
async function longText(chars: number): Promise<string> {
  const body = (await englishSentences()).join(' ');
  let text = 'A long story\n\n';
  while (text.length < chars) text += `${body}\n\n`;
  return text.slice(0, chars);
}

interface Server {
  base: string;
  child: ChildProcess;
  startupMs: number;
  stop(): Promise<void>;
}

async function startServe(dataDir: string, databaseUrl: string | undefined): Promise<Server> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(DIST, 'cli.js'), 'serve', '--port', String(port)], {
    env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: databaseUrl ?? '', QUEUE_PREFIX: `sfbench-${randomBytes(4).toString('hex')}`, LOG_LEVEL: 'warn', RATE_LIMIT_UPLOAD: '1000' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitFor('serve to answer', 300_000, async () => ((await fetch(`${base}/ready`)).ok ? true : undefined), 50);
  const startupMs = performance.now() - started;
  return {
    base,
    child,
    startupMs,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function upload(base: string, token: string, name: string, bytes: Buffer): Promise<{ status: number; ms: number }> {
  const form = new FormData();
  form.append('file', new Blob([bytes]), name);
  const t0 = performance.now();
  const response = await fetch(`${base}/file-upload/upload`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  await response.arrayBuffer();
  return { status: response.status, ms: performance.now() - t0 };
}

/** {@link upload} three times, one after the other: the answer with the median time. */
async function medianUpload(base: string, token: string, name: string, bytes: Buffer): Promise<{ status: number; ms: number }> {
  const answers: { status: number; ms: number }[] = [];
  for (let i = 0; i < 3; i++) answers.push(await upload(base, token, name, bytes));
  return answers.sort((a, b) => a.ms - b.ms)[1]!;
}

async function heapUsed(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes\s+([\d.e+]+)/m.exec(text)?.[1]);
}

/** Peak RSS (MB) and wall time (s) of `storyforge run` on `files`. */
async function runPeakRss(files: string[], env: Record<string, string>): Promise<{ rssMb: number; wallS: number; code: number }> {
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-bench-run-'));
  const t0 = performance.now();
  try {
    const { stderr } = await run('/usr/bin/time', ['-f', 'maxrss=%M', process.execPath, path.join(DIST, 'cli.js'), 'run', ...files, '--out', out, '--no-merge'], {
      env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
      maxBuffer: 64 * MB,
    });
    return { rssMb: Number(/maxrss=(\d+)/.exec(stderr)?.[1]) / 1024, wallS: (performance.now() - t0) / 1000, code: 0 };
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '');
    return { rssMb: Number(/maxrss=(\d+)/.exec(stderr)?.[1]) / 1024, wallS: (performance.now() - t0) / 1000, code: (error as { code?: number }).code ?? -1 };
  } finally {
    await fs.rm(out, { recursive: true, force: true });
  }
}

const intakeOnly = arg('only') === 'intake';
const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'storyforge-bench-b5-'));
const fakes = await startFakeProviders({ chat: 0, images: 0, speech: 0 });
const figures: Figure[] = [];
const rows: string[] = [];
try {
  const txt2 = Buffer.from(await longText(2 * 1000 * 1000 - 50_000), 'utf8');
  const overLimit = Buffer.from(await longText(10 * 1000 * 1000), 'utf8');
  const text = await longText(1_500_000);
  const paragraphs = text.split('\n\n').filter(Boolean).map((p) => paragraph(p.replace(/&/g, '&amp;').replace(/</g, '&lt;'))).join('');
  const docx = zip({
    ...docxPackageParts([{ id: 'rId9', type: 'image', target: 'media/image1.png' }]),
    'word/document.xml': documentXml(paragraphs),
    'word/media/image1.png': randomBytes(Math.floor(9.3 * MB)),
  });
  const storyFiles: string[] = [];
  for (const [i, file] of (await storyTexts(50, 45)).entries()) {
    const p = path.join(scratch, `story_${String(i + 1).padStart(2, '0')}.txt`);
    await fs.writeFile(p, file.text);
    storyFiles.push(p);
  }

  for (const kind of ['embedded', 'PostgreSQL'] as const) {
    const dataDir = await fs.mkdtemp(path.join(scratch, 'data-'));
    const database = kind === 'PostgreSQL' ? await privateDatabase(POSTGRES_URL) : undefined;
    try {
      let load = load1();
      const first = await startServe(dataDir, database?.url);
      await first.stop();
      const server = await startServe(dataDir, database?.url);
      try {
        figures.push(figure(`${kind}: start-up, new database (s)`, first.startupMs / 1000, `${(first.startupMs / 1000).toFixed(1)} s`, [load]));
        figures.push(figure(`${kind}: start-up, existing database (s)`, server.startupMs / 1000, `${(server.startupMs / 1000).toFixed(1)} s`, [load]));
        const register = await fetch(`${server.base}/auth/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'bench@example.com', password: 'correct horse battery staple' }),
        });
        const { accessToken: token } = (await register.json()) as { accessToken: string };

        load = load1();
        // Each upload three times, the median taken (the first one also warms the server up).
        const t = await medianUpload(server.base, token, 'long.txt', txt2);
        const d = await medianUpload(server.base, token, 'long.docx', docx);
        if (t.status !== 201 || d.status !== 201) throw new Error(`uploads answered ${t.status} and ${d.status}`);
        const txtRate = txt2.length / MB / (t.ms / 1000);
        const docxRate = docx.length / MB / (d.ms / 1000);
        figures.push(figure(`${kind}: intake of a ${(txt2.length / MB).toFixed(1)} MB .txt (MB/s)`, txtRate, `${txtRate.toFixed(1)} MB/s`, [load], { atLeast: 5 }));
        figures.push(figure(`${kind}: intake of a ${(docx.length / MB).toFixed(1)} MB .docx (MB/s)`, docxRate, `${docxRate.toFixed(1)} MB/s`, [load], { atLeast: 5 }));

        load = load1();
        const before = await heapUsed(server.base);
        let peak = before;
        let polling = true;
        const poller = (async () => {
          while (polling) {
            peak = Math.max(peak, await heapUsed(server.base).catch(() => peak));
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        })();
        const t10 = performance.now();
        const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => upload(server.base, token, `many_${i}.docx`, docx)));
        const concurrentS = (performance.now() - t10) / 1000;
        polling = false;
        await poller;
        const growth = (peak - before) / MB;
        figures.push(figure(`${kind}: heap growth, 10 concurrent ${(docx.length / MB).toFixed(1)} MB uploads (MB)`, growth, `${growth.toFixed(0)} MB`, [load], { atMost: 50 }));
        rows.push(`| ${kind} | 10 × .docx at once | ${answers.map((a) => a.status).join(' ')} | ${concurrentS.toFixed(1)} s |`);

        load = load1();
        const refused = await upload(server.base, token, 'too_long.txt', overLimit);
        rows.push(`| ${kind} | ${(overLimit.length / MB).toFixed(1)} MB .txt, ${(10).toLocaleString('en')} M characters | ${refused.status} | ${(refused.ms / 1000).toFixed(2)} s (a ${(txt2.length / MB).toFixed(1)} MB .txt is taken in ${(t.ms / 1000).toFixed(2)} s) |`);
        figures.push(figure(`${kind}: refusal of a 10 MB .txt over the character limit (s)`, refused.ms / 1000, `${(refused.ms / 1000).toFixed(2)} s (${refused.status})`, [load]));
      } finally {
        await server.stop();
      }

      if (intakeOnly) continue;
      load = load1();
      const runDir = await fs.mkdtemp(path.join(scratch, 'run-'));
      const runDatabase = kind === 'PostgreSQL' ? await privateDatabase(POSTGRES_URL) : undefined;
      const rss = await runPeakRss(storyFiles, { ...fakeProviderEnv(fakes.baseUrl), DATA_DIR: runDir, DATABASE_URL: runDatabase?.url ?? '', QUEUE_PREFIX: `sfbench-${randomBytes(4).toString('hex')}` });
      await runDatabase?.drop().catch(() => undefined);
      figures.push(figure(`${kind}: peak RSS of \`storyforge run\`, 50 stories (MB)`, rss.rssMb, `${rss.rssMb.toFixed(0)} MB`, [load], { atMost: 300 }));
      rows.push(`| ${kind} | \`storyforge run\` 50 stories | exit ${rss.code} | ${rss.wallS.toFixed(1)} s |`);
    } finally {
      await database?.drop().catch(() => undefined);
    }
  }
  await report({
    id: 'B5',
    title: 'memory, intake and start-up',
    figures,
    details: [
      'Start-up: `storyforge serve` spawned → `GET /ready` 200. Uploads: `POST /file-upload/upload` over HTTP, one request at a time unless said; each intake figure is the median of 3 uploads. `storyforge run`: 50 stories of about 45 words, fake providers with no latency, `--no-merge`.',
      '',
      '| database | what | answer | time |',
      '| --- | --- | --- | --- |',
      ...rows,
    ],
  });
} finally {
  await fakes.close();
  await fs.rm(scratch, { recursive: true, force: true });
}
