import { TextDecoder } from 'node:util';

/**
 * Gauges, while a plain-text upload is still arriving, how many characters its stored text will
 * have at least, so that a file over the character limit can be refused as soon as the limit is
 * passed instead of after it has been received and decoded whole.
 *
 * The gauge never says more than the text will have after `decodeText` and `normalizeText`
 * (a lower bound), so it never refuses a file the final check would take:
 * - the bytes are read the way `decodeText` will read them, told from the first 256 bytes: a
 *   ZIP or OLE signature (a Word file: not gauged, 0), a UTF-8 or UTF-16 byte-order mark, UTF-16
 *   without one (NUL bytes, all on one side; NULs on both sides are binary: not gauged), else
 *   UTF-8. When UTF-8 turns out invalid, the file is
 *   read in a legacy code page, all of which keep ASCII as it is: then only ASCII bytes count, at
 *   most one per character (a double-byte character's second byte may be ASCII, its first is not);
 * - of the decoded characters (UTF-16 code units, as `string.length` counts), those that
 *   normalisation may remove or merge count 0: control characters, byte-order marks, combining
 *   marks and Hangul vowel and final jamo (NFC composes them with the character before);
 *   whitespace counts once something other than whitespace follows it on its line (whitespace at
 *   a line's end is removed), line breaks once text follows them (blank lines at the start and end
 *   are removed); CRLF counts as one line break, U+2029 as two.
 *
 * A file of the 10 MB byte limit is thus refused after about 2 MB of English text, not after
 * 10 MB (a byte bound alone could not do this: a UTF-8 character takes 1 to 3 bytes, and a file
 * of spaces has no text at all).
 */
export class TextLengthGauge {
  private mode: 'head' | 'none' | 'utf-8' | 'utf-16le' | 'utf-16be' | 'ascii' = 'head';
  private head: Uint8Array = new Uint8Array(0);
  private decoder: TextDecoder | undefined;
  /** The count from the decoded characters (UTF-8 and UTF-16 modes). */
  private readonly decoded = new NormalisedLength();
  /** The count from the ASCII bytes alone, kept from the start in UTF-8 mode in case UTF-8 fails. */
  private readonly ascii = new NormalisedLength();

  /** Characters the stored text will have at least, after the bytes pushed so far. */
  get least(): number {
    return this.mode === 'ascii' ? this.ascii.count : this.mode === 'none' || this.mode === 'head' ? 0 : this.decoded.count;
  }

  /** Reads the next bytes of the file. Never throws. */
  push(chunk: Uint8Array): void {
    if (this.mode === 'head') {
      this.head = concat(this.head, chunk);
      if (this.head.length < HEAD_BYTES) return;
      chunk = this.head;
      this.choose(chunk);
      this.head = new Uint8Array(0);
    }
    switch (this.mode) {
      case 'none':
        return;
      case 'utf-16le':
      case 'utf-16be':
        this.decoded.addText(this.decoder!.decode(chunk, { stream: true }));
        return;
      case 'utf-8':
        this.ascii.addAscii(chunk);
        try {
          this.decoded.addText(this.decoder!.decode(chunk, { stream: true }));
        } catch {
          this.mode = 'ascii';
        }
        return;
      case 'ascii':
        this.ascii.addAscii(chunk);
        return;
    }
  }

  private choose(head: Uint8Array): void {
    const [a, b, c, d] = head as unknown as [number, number, number, number];
    let evenNuls = 0;
    let oddNuls = 0;
    for (let i = 0; i < head.length; i++) if (head[i] === 0) i % 2 === 0 ? evenNuls++ : oddNuls++;
    if ((a === 0x50 && b === 0x4b && c === 0x03 && d === 0x04) || (a === 0xd0 && b === 0xcf && c === 0x11 && d === 0xe0)) {
      this.mode = 'none';
    } else if (a === 0xff && b === 0xfe) {
      this.mode = 'utf-16le';
    } else if (a === 0xfe && b === 0xff) {
      this.mode = 'utf-16be';
    } else if (evenNuls + oddNuls === 0) {
      this.mode = 'utf-8';
    } else if (evenNuls === 0) {
      this.mode = 'utf-16le';
    } else if (oddNuls === 0) {
      this.mode = 'utf-16be';
    } else {
      // NUL bytes that are not UTF-16: refused as binary once read; not gauged.
      this.mode = 'none';
    }
    // The decoders drop a leading byte-order mark, as decodeText does.
    if (this.mode === 'utf-8') this.decoder = new TextDecoder('utf-8', { fatal: true });
    if (this.mode === 'utf-16le' || this.mode === 'utf-16be') this.decoder = new TextDecoder(this.mode);
  }
}

/** Bytes looked at before choosing how to read the file (a smaller file is far below any limit). */
const HEAD_BYTES = 256;

/** The lower bound of the normalised length of a text read piece by piece (see {@link TextLengthGauge}). */
class NormalisedLength {
  count = 0;
  private seenText = false;
  private pendingSpaces = 0;
  private pendingBreaks = 0;
  private afterCr = false;

  addText(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
        // A character outside the BMP: two code units, or none when it is a mark.
        const codePoint = text.codePointAt(i)!;
        if (codePoint > 0xffff) {
          i++;
          this.add(codePoint, 2);
          continue;
        }
      }
      this.add(code, 1);
    }
  }

  /** ASCII bytes as characters; other bytes count 0. */
  addAscii(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b < 0x80) this.add(b, 1);
    }
  }

  /** One character of `units` UTF-16 code units. */
  private add(code: number, units: number): void {
    const afterCr = this.afterCr;
    this.afterCr = code === 0x0d;
    if (code === 0x0a || code === 0x0b || code === 0x0c || code === 0x0d || code === 0x85 || code === 0x2028 || code === 0x2029) {
      if (code === 0x0a && afterCr) return;
      this.pendingSpaces = 0;
      this.pendingBreaks += code === 0x2029 ? 2 : 1;
    } else if (isSpace(code)) {
      this.pendingSpaces++;
    } else if (!countsZero(code)) {
      this.count += (this.seenText ? this.pendingBreaks : 0) + this.pendingSpaces + units;
      this.seenText = true;
      this.pendingSpaces = 0;
      this.pendingBreaks = 0;
    }
  }
}

/** Whitespace of JavaScript's `\s` other than line breaks and U+FEFF (which counts 0). */
function isSpace(code: number): boolean {
  return (
    code === 0x20 ||
    code === 0x09 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

const MARK = /^\p{M}$/u;
/** Whether a BMP character is a mark: 0 not known yet, 1 a mark, 2 not. */
const MARKS = new Uint8Array(0x10000);

/** Characters normalisation removes or may merge into the one before (a code point). */
function countsZero(code: number): boolean {
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0xfeff) return true;
  if (code < 0x300) return false;
  // Hangul vowel and final jamo (composed by NFC), old and extended.
  if ((code >= 0x1160 && code <= 0x11ff) || (code >= 0xd7b0 && code <= 0xd7ff)) return true;
  if (code > 0xffff) return MARK.test(String.fromCodePoint(code));
  if (MARKS[code] === 0) MARKS[code] = MARK.test(String.fromCharCode(code)) ? 1 : 2;
  return MARKS[code] === 1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
