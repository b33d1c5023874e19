import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import CFB from 'cfb';
import { sampleBytes } from './samples.js';

/** A real OLE compound file (written by the `cfb` package) holding the given streams, each a few bytes. */
export function oleWithStreams(names: string[]): Buffer {
  const container = CFB.utils.cfb_new();
  for (const name of names) CFB.utils.cfb_add(container, `/${name}`, Buffer.from('stream data'));
  return Buffer.from(CFB.write(container, { type: 'buffer' }) as Uint8Array);
}

/** A copy of the real Word 97 sample with its File Information Block changed. */
export function word97With(change: (fib: number, doc: Buffer) => void): Buffer {
  const doc = Buffer.from(sampleBytes('docs/nwe_test05_word97.doc'));
  let fib = -1;
  for (let offset = 512; offset < doc.length; offset += 512) {
    if (doc.readUInt16LE(offset) === 0xa5ec) {
      fib = offset;
      break;
    }
  }
  if (fib < 0) throw new Error('no Word 97 FIB found in the sample');
  change(fib, doc);
  return doc;
}

/** A small .doc from test/fixtures/doc (see SOURCES.md there). */
export function docFixture(name: string): Buffer {
  return readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/doc', name));
}

/**
 * A .doc rewritten by the `cfb` package with its WordDocument stream changed in place (same size,
 * so a small stream stays in the mini-stream).
 */
export function withWordDocument(doc: Buffer, change: (stream: Buffer) => void): Buffer {
  const container = CFB.read(doc, { type: 'buffer' });
  const entry = CFB.find(container, 'WordDocument');
  if (!entry?.content) throw new Error('no WordDocument stream');
  const stream = Buffer.from(entry.content as Uint8Array);
  change(stream);
  entry.content = stream;
  return Buffer.from(CFB.write(container, { type: 'buffer' }) as Uint8Array);
}

/**
 * A compound file whose WordDocument sector chain loops: its last sector points back to its
 * second one (a FAT edit, MS-CFB 2.3). With `streamInLoop`, the SummaryInformation stream is also
 * made to start inside the loop, which `cfb` follows without end; without, `cfb` reads the file and
 * word-extractor follows the loop without end.
 */
export function withLoopedChain(doc: Buffer, streamInLoop: boolean): Buffer {
  const file = Buffer.from(doc);
  if (file.readUInt16LE(0x1e) !== 9) throw new Error('expected 512-byte sectors');
  const sector = (n: number): number => (n + 1) * 512;
  const fat = sector(file.readUInt32LE(0x4c)); // the first FAT sector covers the first 128 sectors
  const start = CFB.find(CFB.read(doc, { type: 'buffer' }), 'WordDocument')!.start;
  const chain: number[] = [];
  for (let s = start; s < 0xfffffff0 && chain.length < 128; s = file.readUInt32LE(fat + 4 * s)) chain.push(s);
  file.writeUInt32LE(chain[1]!, fat + 4 * chain.at(-1)!);
  if (streamInLoop) {
    const directory = sector(file.readUInt32LE(0x30));
    for (let entry = directory; entry < directory + 512; entry += 128) {
      const name = file.toString('utf16le', entry, entry + file.readUInt16LE(entry + 0x40) - 2);
      if (name === '\u0005SummaryInformation') {
        file.writeUInt32LE(chain[1]!, entry + 0x74);
        file.writeUInt32LE(8192, entry + 0x78);
      }
    }
  }
  return file;
}
