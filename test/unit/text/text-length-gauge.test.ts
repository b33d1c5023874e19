import { describe, expect, it } from 'vitest';
import { decodeText } from '../../../src/text/decode.js';
import { normalizeText } from '../../../src/text/normalize.js';
import { TextLengthGauge } from '../../../src/text/text-length-gauge.js';
import { encodeLegacy, encodeTcvn3, encodeVni } from '../../support/legacy-text.js';
import { sampleText } from '../../support/samples.js';

/** The gauge after `bytes` arrived in pieces of `size` bytes. */
function gauge(bytes: Uint8Array, size: number): number {
  const g = new TextLengthGauge();
  for (let at = 0; at < bytes.length; at += size) g.push(bytes.subarray(at, at + size));
  return g.least;
}

/** The length of the text intake stores for these bytes. */
function stored(bytes: Uint8Array): number {
  return normalizeText(decodeText(bytes).text).length;
}

function utf16(text: string, order: 'le' | 'be', bom: boolean): Buffer {
  const le = Buffer.from((bom ? '\uFEFF' : '') + text, 'utf16le');
  return order === 'le' ? le : le.swap16();
}

const STORIES = ['stories/en/en_grimm_frog_prince.txt', 'stories/vi/vi_su_tich_ho_ba_be.txt', 'stories/other/fr_perrault_petit_chaperon_rouge.txt'];

describe('TextLengthGauge', () => {
  it.each(STORIES)('gauges %s in every Unicode form within 1% of the stored length, never above it', (name) => {
    const text = sampleText(name);
    const forms = {
      'utf-8': Buffer.from(text),
      'utf-8 with BOM and CRLF': Buffer.from(`\uFEFF${text.replace(/\n/g, '\r\n')}`),
      'utf-8 decomposed (NFD)': Buffer.from(text.normalize('NFD')),
      'utf-16le with BOM': utf16(text, 'le', true),
      'utf-16be with BOM': utf16(text, 'be', true),
      'utf-16le without BOM': utf16(text, 'le', false),
    };
    for (const [form, bytes] of Object.entries(forms)) {
      for (const size of [1, 7, 4096]) {
        const least = gauge(bytes, size);
        expect({ form, size, atMost: least <= stored(bytes) }).toEqual({ form, size, atMost: true });
        expect({ form, size, close: least >= stored(bytes) * 0.99 }).toEqual({ form, size, close: true });
      }
    }
  });

  it('never gauges a legacy-encoded story above its stored length, and counts its ASCII', () => {
    const vi = sampleText('stories/vi/vi_su_tich_ho_ba_be.txt');
    const en = sampleText('stories/en/en_grimm_frog_prince.txt').replace(/[’‘]/g, "'").replace(/[“”]/g, '"').replace(/—/g, '-');
    for (const bytes of [encodeLegacy(vi, 'windows-1258'), encodeLegacy(`Café ${en}`, 'windows-1252'), encodeTcvn3(vi), encodeVni(vi)]) {
      const least = gauge(bytes, 1000);
      expect(least).toBeLessThanOrEqual(stored(bytes));
      expect(least).toBeGreaterThan(stored(bytes) * 0.3);
    }
  });

  it('never gauges random text above its stored length (spaces, line breaks, marks, controls, jamo, BOMs)', () => {
    const alphabet = [...'ab c\t\n\r\u000b\u000c\u0085\u2028\u2029\u00a0\u3000\uFEFF\u0301\u0323\u0001\u007f\u1100\u1161\u11a8가é😀\u{11099}\u{110BA}ư'];
    let gauged = 0;
    let total = 0;
    let seed = 5;
    const next = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (let k = 0; k < 2_000; k++) {
      let text = 'x';
      const length = 100 + Math.floor(next() * 400);
      for (let j = 0; j < length; j++) text += alphabet[Math.floor(next() * alphabet.length)];
      for (const bytes of [Buffer.from(text), utf16(text, 'le', true)]) {
        const least = gauge(bytes, 1 + Math.floor(next() * 5));
        expect({ text, ok: least <= stored(bytes) }).toEqual({ text, ok: true });
        gauged += least;
        total += stored(bytes);
      }
    }
    expect(gauged).toBeGreaterThan(total * 0.5);
  });

  it('stops gauging UTF-8 that turns invalid after non-ASCII letters (its reading is not known yet)', () => {
    const vi = Buffer.from(sampleText('stories/vi/vi_su_tich_ho_ba_be.txt'));
    expect(gauge(vi, 1000)).toBeGreaterThan(0);
    expect(gauge(Buffer.concat([vi, Buffer.from([0xff]), Buffer.alloc(5000, 0x41)]), 1000)).toBe(0);
  });

  it('does not gauge Word files or binary data', () => {
    expect(gauge(Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(5000, 0x41)]), 100)).toBe(0);
    expect(gauge(Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0]), Buffer.alloc(5000, 0x41)]), 100)).toBe(0);
    expect(gauge(Buffer.concat([Buffer.from([0x41, 0x00, 0x00, 0x41]), Buffer.alloc(5000, 0x41)]), 100)).toBe(0);
  });

  it('passes 2,000,000 characters where the text does, whatever the chunking', () => {
    const line = 'Once upon a time there lived a miller who was very poor.\n\n';
    const text = line.repeat(Math.ceil(2_100_000 / line.length));
    const bytes = Buffer.from(text);
    expect(gauge(bytes, 65536)).toBe(stored(bytes));
  });
});
