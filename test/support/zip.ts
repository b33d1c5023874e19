import { constants, crc32, deflateRawSync } from 'node:zlib';

/** One entry of a ZIP archive as it is written: data already compressed (or stored). */
export interface RawZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: 0 | 8;
  data: Buffer;
  crc: number;
  /** Unpacked size written in the local header and the central directory (may lie, for bombs). */
  uncompressedSize: number;
}

/** A ZIP archive of the given entries (no data descriptors, no ZIP64). */
export function assembleZip(entries: RawZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(entry.method, 8);
    local.writeUInt32LE(entry.crc >>> 0, 14);
    local.writeUInt32LE(entry.data.length, 18);
    local.writeUInt32LE(entry.uncompressedSize, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(entry.method, 10);
    central.writeUInt32LE(entry.crc >>> 0, 16);
    central.writeUInt32LE(entry.data.length, 20);
    central.writeUInt32LE(entry.uncompressedSize, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, entry.data);
    centrals.push(central, name);
    offset += local.length + name.length + entry.data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** A ZIP archive of named texts or buffers, deflated (or stored when `store` is set). */
export function zip(files: Record<string, string | Buffer>, options: { store?: boolean } = {}): Buffer {
  return assembleZip(
    Object.entries(files).map(([name, content]) => {
      const data = Buffer.from(content);
      return {
        name,
        method: options.store ? 0 : 8,
        data: options.store ? data : deflateRawSync(data),
        crc: crc32(data),
        uncompressedSize: data.length,
      };
    }),
  );
}

/**
 * `megabytes` MB of zero bytes as one deflate stream, made without ever holding them: one
 * megabyte compressed with a full flush (so that it refers to nothing before it) repeated, then
 * an empty final block. About 1 KB per MB.
 */
export function deflatedZeros(megabytes: number): { data: Buffer; crc: number; size: number } {
  const chunk = Buffer.alloc(1024 * 1024);
  const block = deflateRawSync(chunk, { level: 9, finishFlush: constants.Z_FULL_FLUSH });
  let crc = 0;
  for (let i = 0; i < megabytes; i++) crc = crc32(chunk, crc);
  return { data: Buffer.concat([...Array<Buffer>(megabytes).fill(block), deflateRawSync(Buffer.alloc(0))]), crc, size: megabytes * chunk.length };
}

const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';

/** The `[Content_Types].xml`, `_rels/.rels` and `word/_rels/document.xml.rels` a minimal .docx needs. */
export function docxPackageParts(relationships: Array<{ id: string; type: string; target: string }> = []): Record<string, string> {
  return {
    '[Content_Types].xml':
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    '_rels/.rels':
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    'word/_rels/document.xml.rels': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${relationships
      .map((r) => `<Relationship Id="${r.id}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/${r.type}" Target="${r.target}"/>`)
      .join('')}</Relationships>`,
  };
}

/** `word/document.xml` with the given body XML (`<w:p>…</w:p>` elements). */
export function documentXml(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ${W}><w:body>${body}</w:body></w:document>`;
}

/** A paragraph of plain runs. */
export function paragraph(...runs: string[]): string {
  return `<w:p>${runs.map((text) => `<w:r><w:t xml:space="preserve">${text}</w:t></w:r>`).join('')}</w:p>`;
}

/** A .docx with the given paragraphs (body XML) and nothing else. */
export function minimalDocx(body: string): Buffer {
  return zip({ ...docxPackageParts(), 'word/document.xml': documentXml(body) });
}

/** The header of a footnotes or endnotes part (`kind` is `footnote` or `endnote`). */
export function notesXml(kind: 'footnote' | 'endnote', notes: Record<string, string>): string {
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:${kind}s ${W}>${Object.entries(notes)
    .map(([id, text]) => `<w:${kind} w:id="${id}">${paragraph(text)}</w:${kind}>`)
    .join('')}</w:${kind}s>`;
}

export { W as WORD_NAMESPACES };
