import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';

/**
 * Heap limit of the child process that parses one .doc, MB. Neither `cfb` nor word-extractor guards
 * every sector chain against loops; a crafted file makes them grow an array until the heap is full,
 * which ends the process that parses it (a worker thread's heap limit does not always stop that),
 * so the parsing runs in a process of its own. A 10 MB upload (the default `UPLOAD_MAX_BYTES`) parses in well under
 * 100 MB.
 */
export const DOC_HEAP_LIMIT_MB = 256;
/** Time limit for parsing one .doc, ms (a real one takes tens of ms; a looping one never ends). */
export const DOC_TIME_LIMIT_MS = 30_000;

/** What the parsing process found in an OLE compound file. */
export type DocReading =
  | {
      ok: true;
      /** Names of the streams and storages in the compound file. */
      streams: string[];
      /** `wIdent` of the WordDocument stream's File Information Block, when there is one. */
      wordIdent?: number;
      wordEncrypted: boolean;
      /** word-extractor's body text, read only from an unencrypted Word 97-2003 document. */
      body?: string;
      /** word-extractor's error, when it could not read the body. */
      bodyError?: string;
    }
  | {
      ok: false;
      /** Why the compound file could not be read: the container is damaged, or a limit was hit. */
      reason: string;
    };

const require = createRequire(import.meta.url);

/**
 * The parsing process (CommonJS, run with `node -e`, so that it works from the TypeScript sources
 * and from dist/ alike): the file on stdin, one JSON {@link DocReading} on stdout. `cfb` follows the
 * sector chains as MS-CFB defines them (regular sectors and the mini-stream); the FIB is the first
 * bytes of the WordDocument stream (MS-DOC 2.5.1).
 */
const CHILD_SOURCE = `
const [cfbPath, wordExtractorPath] = process.argv.slice(1);
const CFB = require(cfbPath);
const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', async () => {
  const buffer = Buffer.concat(chunks);
  const send = (reading) => process.stdout.write(JSON.stringify(reading));
  let container;
  try {
    container = CFB.read(buffer, { type: 'buffer' });
  } catch (error) {
    send({ ok: false, reason: String((error && error.message) || error) });
    return;
  }
  const streams = container.FileIndex.map((e) => e.name).filter(Boolean);
  const word = container.FileIndex.find((e) => e.name === 'WordDocument' && e.type === 2);
  const fib = word && word.content ? Buffer.from(word.content) : undefined;
  const reading = { ok: true, streams, wordEncrypted: false };
  if (fib && fib.length >= 12) {
    reading.wordIdent = fib.readUInt16LE(0);
    reading.wordEncrypted = reading.wordIdent === 0xa5ec && (fib.readUInt16LE(0x0a) & 0x0100) !== 0;
  }
  if (word && reading.wordIdent === 0xa5ec && !reading.wordEncrypted) {
    try {
      const WordExtractor = require(wordExtractorPath);
      const document = await new WordExtractor().extract(buffer);
      reading.body = document.getBody({ filterUnicode: false });
    } catch (error) {
      reading.bodyError = String((error && error.message) || error);
    }
  }
  send(reading);
});
`;

/**
 * Reads an OLE compound file in a child process with a heap limit ({@link DOC_HEAP_LIMIT_MB}) and a
 * time limit ({@link DOC_TIME_LIMIT_MS}): its streams, the Word FIB's identifier and encryption
 * flag, and, for an unencrypted Word 97-2003 document, word-extractor's body text (headers,
 * footers and footnotes left out; quotes and dashes as written). Costs a Node start: about 0.15 s of CPU per file.
 *
 * Never throws: a damaged container, a parse that runs out of heap or time, or a process that
 * cannot start gives `{ ok: false, reason }`.
 */
export function readDoc(bytes: Uint8Array): Promise<DocReading> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [`--max-old-space-size=${DOC_HEAP_LIMIT_MB}`, '-e', CHILD_SOURCE, require.resolve('cfb'), require.resolve('word-extractor')],
      { stdio: ['pipe', 'pipe', 'ignore'], timeout: DOC_TIME_LIMIT_MS, killSignal: 'SIGKILL' },
    );
    const output: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stdin.on('error', () => undefined); // the child may end before reading everything
    child.stdin.end(bytes);
    child.once('error', (error) => resolve({ ok: false, reason: `the parsing process could not start: ${error.message}` }));
    child.once('close', (code, signal) => {
      if (code === 0) {
        try {
          resolve(JSON.parse(Buffer.concat(output).toString('utf8')) as DocReading);
          return;
        } catch {
          // fall through: no complete answer
        }
      }
      resolve({
        ok: false,
        reason:
          signal === 'SIGKILL' ? `parsing took longer than ${DOC_TIME_LIMIT_MS} ms` : `parsing stopped (exit code ${code}, signal ${signal}); it may have needed more than ${DOC_HEAP_LIMIT_MB} MB`,
      });
    });
  });
}
