import { sampleBytes } from './samples.js';

/** An OLE compound file (512-byte sectors) whose directory lists the given streams; no stream data. */
export function oleWithStreams(names: string[]): Buffer {
  const file = Buffer.alloc(1024);
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(file, 0);
  file.writeUInt16LE(0x003e, 0x18);
  file.writeUInt16LE(0x0003, 0x1a);
  file.writeUInt16LE(0xfffe, 0x1c);
  file.writeUInt16LE(9, 0x1e);
  file.writeUInt16LE(6, 0x20);
  file.writeUInt32LE(0, 0x30);
  ['Root Entry', ...names].forEach((name, i) => {
    const entry = 512 + i * 128;
    file.write(name, entry, 'utf16le');
    file.writeUInt16LE((name.length + 1) * 2, entry + 0x40);
    file[entry + 0x42] = i === 0 ? 5 : 2;
  });
  return file;
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
