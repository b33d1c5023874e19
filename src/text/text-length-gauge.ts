import { isAscii } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
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
 *   UTF-8. When UTF-8 turns out invalid (or holds U+FFFD), the file may be
 *   read in a legacy code page, all of which keep ASCII as it is: if every byte before was ASCII,
 *   from then on only ASCII bytes count, at most one per character (a double-byte character's
 *   second byte may be ASCII, its first is not); after valid non-ASCII UTF-8 it is not gauged;
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
  private utf8: StringDecoder | undefined;
  /** The count from the decoded characters (UTF-8 and UTF-16 modes). */
  private readonly decoded = new NormalisedLength();
  /** The count from the ASCII bytes alone, once UTF-8 has failed ('ascii' mode). */
  private ascii = new NormalisedLength();
  /** Whether every byte so far has been ASCII (UTF-8 mode). */
  private asciiOnly = true;

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
      case 'utf-8': {
        // U+FFFD: an invalid sequence (or the character itself), so the file may be read in a legacy code page.
        const text = this.utf8!.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if (!text.includes('\uFFFD')) {
          this.decoded.addText(text);
          if (this.asciiOnly) this.asciiOnly = isAscii(chunk);
        } else if (this.asciiOnly) {
          // The bytes before were ASCII, read alike in every encoding: go on counting ASCII bytes only.
          this.mode = 'ascii';
          this.ascii = this.decoded.clone();
          this.ascii.addAscii(chunk);
        } else {
          // UTF-8 letters, then an invalid byte: their legacy reading cannot be told apart now; not gauged.
          this.mode = 'none';
        }
        return;
      }
      case 'ascii':
        this.ascii.addAscii(chunk);
        return;
    }
  }

  private choose(head: Uint8Array): void {
    const [a, b, c, d] = head as unknown as [number, number, number, number];
    let evenNuls = 0;
    let oddNuls = 0;
    for (let i = 0; i < head.length; i++) {
      if (head[i] !== 0) continue;
      if (i % 2 === 0) evenNuls++;
      else oddNuls++;
    }
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
    if (this.mode === 'utf-8') this.utf8 = new StringDecoder('utf8');
    if (this.mode === 'utf-16le' || this.mode === 'utf-16be') this.decoder = new TextDecoder(this.mode);
  }
}

/** Bytes looked at before choosing how to read the file (a smaller file is far below any limit). */
const HEAD_BYTES = 256;

/** How a character counts ({@link NormalisedLength}). */
const enum K {
  Unknown = 0,
  /** Counts 1 per code unit, with the whitespace and line breaks before it. */
  Text = 1,
  /** Counts once text follows on its line. */
  Space = 2,
  /** Counts once text follows (CR before LF: not at all). */
  Break = 3,
  /** U+2029: two line breaks. */
  Paragraph = 4,
  /** Removed or merged into the character before by normalisation. */
  Zero = 5,
  /** A high surrogate: the code point decides. */
  High = 6,
}

/** The kind of each BMP character, filled as characters are met. */
const KINDS = new Uint8Array(0x10000);

function kindOf(code: number): K {
  if (code === 0x0a || code === 0x0b || code === 0x0c || code === 0x0d || code === 0x85 || code === 0x2028) return K.Break;
  if (code === 0x2029) return K.Paragraph;
  if (isSpace(code)) return K.Space;
  if (code >= 0xd800 && code <= 0xdbff) return K.High;
  return countsZero(code) ? K.Zero : K.Text;
}

/** The lower bound of the normalised length of a text read piece by piece (see {@link TextLengthGauge}). */
class NormalisedLength {
  count = 0;
  private seenText = false;
  private pendingSpaces = 0;
  private pendingBreaks = 0;
  private afterCr = false;

  /** A counter in the same state. */
  clone(): NormalisedLength {
    return Object.assign(new NormalisedLength(), this);
  }

  addText(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      let kind: number = KINDS[code]!;
      if (kind === K.Unknown) KINDS[code] = kind = kindOf(code);
      if (kind === K.Text) {
        this.text(1);
      } else if (kind === K.High) {
        const codePoint = text.codePointAt(i)!;
        if (codePoint <= 0xffff) {
          this.text(1);
        } else {
          // A character outside the BMP: two code units, or none when it is a mark.
          i++;
          if (countsZero(codePoint)) this.afterCr = false;
          else this.text(2);
        }
      } else {
        this.other(kind, code);
      }
    }
  }

  /** ASCII bytes as characters; other bytes count 0. */
  addAscii(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) {
      const code = bytes[i]!;
      if (code >= 0x80) {
        this.afterCr = false;
        continue;
      }
      let kind: number = KINDS[code]!;
      if (kind === K.Unknown) KINDS[code] = kind = kindOf(code);
      if (kind === K.Text) this.text(1);
      else this.other(kind, code);
    }
  }

  private text(units: number): void {
    if (this.seenText) this.count += this.pendingBreaks;
    this.count += this.pendingSpaces + units;
    this.seenText = true;
    this.pendingSpaces = 0;
    this.pendingBreaks = 0;
    this.afterCr = false;
  }

  private other(kind: number, code: number): void {
    if (kind === K.Space) {
      this.pendingSpaces++;
      this.afterCr = false;
    } else if (kind === K.Break) {
      if (!(code === 0x0a && this.afterCr)) this.pendingBreaks++;
      this.pendingSpaces = 0;
      this.afterCr = code === 0x0d;
    } else if (kind === K.Paragraph) {
      this.pendingBreaks += 2;
      this.pendingSpaces = 0;
      this.afterCr = false;
    } else {
      this.afterCr = false;
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

/** Characters normalisation removes or may merge into the one before (a code point). */
function countsZero(code: number): boolean {
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0xfeff) return true;
  if (code < 0x300) return false;
  // Hangul vowel and final jamo (composed by NFC), old and extended.
  if ((code >= 0x1160 && code <= 0x11ff) || (code >= 0xd7b0 && code <= 0xd7ff)) return true;
  return MARK.test(String.fromCodePoint(code));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
