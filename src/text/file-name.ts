/** Longest file name kept, in characters (most file systems allow 255 bytes; names are for display only). */
const MAX_NAME_CHARS = 255;

/**
 * The name of an uploaded file as Storyforge keeps and shows it (never as a storage key: stored
 * files get server-made names).
 *
 * - UTF-8 read as Latin-1 is repaired ("Truyá»‡n.txt" → "Truyện.txt"): multipart parsers that
 *   are not told the charset hand over UTF-8 bytes one per character;
 * - a path is cut to its last part (`C:\Users\me\story.txt` → `story.txt`);
 * - control characters are removed, surrounding whitespace trimmed, NFC applied (macOS sends
 *   names decomposed), and the name cut to 255 characters;
 * - an empty result becomes `untitled`.
 */
export function normalizeFileName(name: string): string {
  const cleaned = repairLatin1(name)
    .split(/[/\\]/)
    .pop()!
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .trim()
    .normalize('NFC');
  const chars = [...cleaned];
  const cut = chars.length > MAX_NAME_CHARS ? chars.slice(0, MAX_NAME_CHARS).join('') : cleaned;
  return cut || 'untitled';
}

function repairLatin1(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\u0080-\u00ff]/.test(name) || /[^\u0000-\u00ff]/.test(name)) return name;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(name, 'latin1'));
  } catch {
    return name;
  }
}

/**
 * The one rule for a story file's name at upload: the extension is what follows the last dot,
 * lower-cased (`.txt`, `.doc`, `.docx` are taken), and the base before it must hold a character
 * other than white space and dots after {@link normalizeFileName}. So `   .txt`, `.txt` and
 * `. .docx` are refused alike (400 `invalid-file-name`), while `a.txt` is taken.
 */
export function fileNameParts(name: string): { base: string; extension: string; emptyBase: boolean } {
  const normalized = normalizeFileName(name);
  const dot = normalized.lastIndexOf('.');
  const base = dot >= 0 ? normalized.slice(0, dot) : normalized;
  const extension = dot >= 0 ? normalized.slice(dot).toLowerCase() : '';
  return { base, extension, emptyBase: !/[^\s.]/u.test(base) };
}
