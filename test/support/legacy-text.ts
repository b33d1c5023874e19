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
