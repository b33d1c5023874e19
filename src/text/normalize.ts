/**
 * Lines longer than this (in characters) are not hard-wrapped prose: a block that has one is
 * taken as one paragraph per line. Project Gutenberg wraps at about 72 columns, most editors
 * and e-mail clients at 76-80; 100 leaves room for long words at the end of a line.
 */
const MAX_WRAPPED_LINE = 100;

/** A line that opens dialogue: a hyphen, en dash, em dash or horizontal bar, then a space. */
const DIALOGUE_MARK = /^[-\u2013\u2014\u2015]\s/u;

/**
 * Brings any decoded text to the form Storyforge stores for an upload.
 *
 * - one leading byte-order mark (U+FEFF) removed;
 * - CRLF and lone CR become LF; vertical tab, form feed, NEL (U+0085) and U+2028 become LF,
 *   U+2029 (paragraph separator) becomes a blank line;
 * - Unicode NFC (Vietnamese typed or copied on macOS arrives decomposed);
 * - every other control character (Unicode category Cc except `\n` and `\t`) removed;
 * - whitespace at the end of each line removed;
 * - blank lines at the start and end removed (the result has no final newline).
 *
 * Everything else, indentation and blank lines between paragraphs included, is kept as written.
 * Idempotent. Never throws.
 */
export function normalizeText(text: string): string {
  return (
    text
      .replace(/^\uFEFF/, '')
      .replace(/\r\n?/g, '\n')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u000B\u000C\u0085\u2028]/g, '\n')
      .replace(/\u2029/g, '\n\n')
      .normalize('NFC')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000E-\u001F\u007F-\u009F]/g, '')
      .replace(/[^\S\n]+$/gm, '')
      .replace(/^\n+/, '')
      .replace(/\n+$/, '')
  );
}

/**
 * Turns normalised upload text into story text: paragraphs separated by exactly one blank line.
 *
 * Inside a block of lines (between blank lines), lines that were hard-wrapped (no line longer
 * than {@link MAX_WRAPPED_LINE} characters, as in Project Gutenberg files) are joined with one
 * space, except:
 * - a line that starts with indentation (verse) starts a new line, without its indentation;
 * - a line that starts with a dialogue mark ("- ", "– ", "— ") starts a new line.
 * A block with a longer line is taken as one paragraph per line and left as it is.
 * Runs of blank lines become one blank line. Text that is already one paragraph per line with
 * blank lines between comes out as `normalizeText` gives it.
 *
 * @returns the cleaned text; `''` when the input holds no text. Never throws.
 */
export function cleanStoryText(text: string): string {
  const blocks = normalizeText(text)
    .split(/\n{2,}/)
    .map((block) => block.split('\n'))
    .filter((lines) => lines.some((line) => line.trim() !== ''));
  return blocks.map(unwrapBlock).join('\n\n');
}

function unwrapBlock(lines: string[]): string {
  const hardWrapped = lines.slice(0, -1).every((line) => line.length <= MAX_WRAPPED_LINE);
  if (!hardWrapped) return lines.join('\n');

  const out: string[] = [];
  for (const line of lines) {
    const content = line.trimStart();
    const startsLine = out.length === 0 || content !== line || DIALOGUE_MARK.test(content);
    if (startsLine) out.push(content);
    else out[out.length - 1] += ` ${content}`;
  }
  return out.join('\n');
}
