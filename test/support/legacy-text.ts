import iconv from 'iconv-lite';

/** The five Vietnamese tone marks, which Windows-1258 stores as separate (combining) characters. */
const TONE_MARKS = /[\u0300\u0301\u0303\u0309\u0323]/gu;

/**
 * Text saved in a legacy encoding, as an editor would save it.
 * @throws Error when a character has no byte in that encoding (iconv-lite would write "?").
 */
export function encodeLegacy(text: string, encoding: string): Buffer {
  const source = encoding === 'windows-1258' ? splitToneMarks(text) : text;
  const bytes = iconv.encode(source, encoding);
  if (iconv.decode(bytes, encoding) !== source) throw new Error(`the text has characters that ${encoding} cannot encode`);
  return bytes;
}

/**
 * Vietnamese as Windows-1258 writes it: a letter the code page has (â, ơ, ư, đ, é …) stays one
 * character; a letter with a tone mark it lacks ("ấ", "ự") becomes its base letter and the tone
 * mark ("â" + U+0301).
 */
function splitToneMarks(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFC')) {
    const single = iconv.encode(ch, 'windows-1258');
    if (ch === '?' || single.length !== 1 || single[0] !== 0x3f) {
      out += ch;
      continue;
    }
    const decomposed = ch.normalize('NFD');
    const tones = decomposed.match(TONE_MARKS)?.join('') ?? '';
    out += decomposed.replace(TONE_MARKS, '').normalize('NFC') + tones;
  }
  return out;
}

/** Letters with a tone mark written as capitals, which TCVN3 lacks (the .VnTimeH fonts drew the lowercase bytes as capitals). */
const TONED_CAPITAL = /[ÀÁẢÃẠẰẮẲẴẶẦẤẨẪẬÈÉẺẼẸỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌỒỐỔỖỘỜỚỞỠỢÙÚỦŨỤỪỨỬỮỰỲÝỶỸỴ]/gu;

/** Vietnamese text as TCVN3 (ABC) can hold it: capitals with a tone mark become lowercase. */
export function tcvn3Readable(text: string): string {
  return text.normalize('NFC').replace(TONED_CAPITAL, (c) => c.toLowerCase());
}

/**
 * Vietnamese saved in TCVN3 (ABC), as a .VnTime document saved as text: letters by iconv-lite's
 * TCVN 5712 table (whose A0-FF block TCVN3 shares), punctuation as Windows-1252.
 * @throws Error for a character TCVN3 has no byte for
 */
export function encodeTcvn3(text: string): Buffer {
  const bytes: number[] = [];
  for (const ch of tcvn3Readable(text)) {
    if (ch.charCodeAt(0) < 0x80) {
      bytes.push(ch.charCodeAt(0));
      continue;
    }
    const letter = iconv.encode(ch, 'tcvn');
    const byte = letter.length === 1 && letter[0]! >= 0xa0 ? letter[0]! : iconv.encode(ch, 'windows-1252')[0]!;
    if (byte === 0x3f || (byte >= 0xa0 && iconv.decode(Buffer.from([byte]), 'tcvn') !== ch) || (byte < 0xa0 && iconv.decode(Buffer.from([byte]), 'windows-1252') !== ch)) {
      throw new Error(`TCVN3 has no byte for "${ch}"`);
    }
    bytes.push(byte);
  }
  return Buffer.from(bytes);
}

/** VNI-Windows mark letters, by the marks of a letter (lowercase; the uppercase letter after a capital). */
const VNI_TONE: Readonly<Record<string, string>> = { '': '', '\u0300': 'ø', '\u0301': 'ù', '\u0309': 'û', '\u0303': 'õ', '\u0323': 'ï' };
const VNI_CIRCUMFLEX: Readonly<Record<string, string>> = { '': 'â', '\u0300': 'à', '\u0301': 'á', '\u0309': 'å', '\u0303': 'ã', '\u0323': 'ä' };
const VNI_BREVE: Readonly<Record<string, string>> = { '': 'ê', '\u0300': 'è', '\u0301': 'é', '\u0309': 'ú', '\u0303': 'ü', '\u0323': 'ë' };
/** i and y letters VNI writes as one byte. */
const VNI_SINGLE: Readonly<Record<string, string>> = { í: 'í', ì: 'ì', ỉ: 'æ', ĩ: 'ó', ị: 'ò', ỵ: 'î', đ: 'ñ' };

/**
 * Vietnamese saved in VNI-Windows, as a VNI-Times document saved as text: each letter is split into
 * its base letter and marks (Unicode decomposition), the marks written as the VNI mark letter,
 * and the result saved as Windows-1252.
 * @throws Error for a character VNI has no bytes for
 */
export function encodeVni(text: string): Buffer {
  let out = '';
  for (const ch of text.normalize('NFC')) {
    const lower = ch.toLowerCase();
    const upper = ch !== lower;
    const cased = (s: string): string => (upper ? s.toUpperCase() : s);
    if (ch.charCodeAt(0) < 0x80) {
      out += ch;
      continue;
    }
    if (VNI_SINGLE[lower]) {
      out += cased(VNI_SINGLE[lower]);
      continue;
    }
    const [base = '', ...marks] = lower.normalize('NFD');
    const tone = marks.find((m) => m in VNI_TONE && m !== '') ?? '';
    if (marks.includes('\u031b')) out += cased(base === 'o' ? 'ô' : 'ö') + cased(VNI_TONE[tone]!);
    else if (marks.includes('\u0302')) out += cased(base) + cased(VNI_CIRCUMFLEX[tone]!);
    else if (marks.includes('\u0306')) out += cased(base) + cased(VNI_BREVE[tone]!);
    else if (/^[aeiouy]$/.test(base) && marks.length === 1 && tone) out += cased(base) + cased(VNI_TONE[tone]!);
    else out += ch;
  }
  const bytes = iconv.encode(out, 'windows-1252');
  if (iconv.decode(bytes, 'windows-1252') !== out) throw new Error('the text has characters that VNI cannot encode');
  return bytes;
}
