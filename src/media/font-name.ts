/**
 * The family name a TrueType / OpenType font file gives itself (`name` table, name ID 1), which
 * is what libass matches a subtitle style's `Fontname` against. Pure: reads bytes, no files.
 */

/** @returns the family name, or undefined when the bytes are not a font with a readable name table. */
export function fontFamilyName(data: Uint8Array): string | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const u16 = (at: number) => view.getUint16(at);
  const u32 = (at: number) => view.getUint32(at);
  try {
    let base = 0;
    if (u32(0) === 0x74746366) base = u32(12); // 'ttcf': the first font of a collection
    const numTables = u16(base + 4);
    let nameTable = -1;
    for (let i = 0; i < numTables; i++) {
      const record = base + 12 + i * 16;
      if (u32(record) === 0x6e616d65) nameTable = u32(record + 8); // 'name'
    }
    if (nameTable < 0) return undefined;
    const count = u16(nameTable + 2);
    const strings = nameTable + u16(nameTable + 4);
    let best: { score: number; name: string } | undefined;
    for (let i = 0; i < count; i++) {
      const record = nameTable + 6 + i * 12;
      const [platform, encoding, languageId, nameId, length, offset] = [0, 2, 4, 6, 8, 10].map((d) => u16(record + d)) as [
        number, number, number, number, number, number,
      ];
      if (nameId !== 1) continue;
      const bytes = data.subarray(strings + offset, strings + offset + length);
      let name: string;
      let score: number;
      if (platform === 3 || platform === 0) {
        name = utf16be(bytes);
        score = platform === 3 && languageId === 0x409 ? 3 : 2;
      } else if (platform === 1 && encoding === 0) {
        name = String.fromCharCode(...bytes);
        score = 1;
      } else {
        continue;
      }
      name = name.replace(/\0/g, '').trim();
      if (name && (!best || score > best.score)) best = { score, name };
    }
    return best?.name;
  } catch {
    return undefined;
  }
}

function utf16be(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i + 1 < bytes.length; i += 2) out += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
  return out;
}
