/**
 * The part of mammoth's document model (mammoth/lib/documents.js) that text extraction reads.
 * Footnotes, endnotes and comments live outside `children` (in `notes` and `comments`), and
 * mammoth never reads headers or footers, so walking `children` gives the body only.
 */
export interface MammothElement {
  type: string;
  children?: MammothElement[];
  /** `text` elements. */
  value?: string;
  /** `break` elements: `line`, `page` or `column`. */
  breakType?: string;
}

/** Thrown by {@link documentText} when the text grows past its limit. */
export class TextTooLongError extends Error {
  constructor(readonly limit: number) {
    super(`text longer than ${limit} characters`);
    this.name = 'TextTooLongError';
  }
}

/**
 * Plain text of a mammoth document body.
 *
 * - each paragraph is one block; blocks are separated by a blank line;
 * - each table row is one block, its cells on one line separated by a tab (the text of a cell that
 *   holds several paragraphs, or a nested table, is joined with spaces);
 * - a line break is a line feed, a page or column break starts a new block, a tab stays a tab;
 * - footnote, endnote and comment references, images, bookmarks and check boxes give nothing.
 *
 * @param maxChars stop with {@link TextTooLongError} once the text would be longer than this
 */
export function documentText(document: MammothElement, maxChars: number): string {
  const out = new TextBuilder(maxChars);
  for (const block of blocksOf(document.children ?? [])) out.addBlock(block);
  return out.toString();

  function* blocksOf(elements: MammothElement[]): Generator<string> {
    for (const element of elements) {
      if (element.type === 'paragraph') {
        yield* inlineText(element).split(PAGE_BREAK);
      } else if (element.type === 'table') {
        for (const row of element.children ?? []) {
          if (row.type !== 'tableRow') continue;
          const cells = (row.children ?? []).filter((cell) => cell.type === 'tableCell').map((cell) => cellText(cell));
          yield cells.join('\t');
        }
      } else if (element.children) {
        yield* blocksOf(element.children);
      }
    }
  }

  function cellText(cell: MammothElement): string {
    let text = '';
    for (const block of blocksOf(cell.children ?? [])) {
      const words = block.replace(/\s+/g, ' ').trim();
      if (words) text += text ? ` ${words}` : words;
      out.check(text.length);
    }
    return text;
  }

  function inlineText(element: MammothElement): string {
    switch (element.type) {
      case 'text':
        return element.value ?? '';
      case 'tab':
        return '\t';
      case 'break':
        return element.breakType === 'line' ? '\n' : PAGE_BREAK;
      case 'noteReference':
      case 'commentReference':
      case 'image':
      case 'bookmarkStart':
      case 'checkbox':
        return '';
      default: {
        let text = '';
        for (const child of element.children ?? []) {
          text += inlineText(child);
          out.check(text.length);
        }
        return text;
      }
    }
  }
}

/** Marks a page or column break inside a paragraph until paragraphs are cut into blocks. */
const PAGE_BREAK = '\u0000';

class TextBuilder {
  private readonly blocks: string[] = [];
  private length = 0;

  constructor(private readonly maxChars: number) {}

  /** Fails early when one paragraph alone is already over the limit. */
  check(extra: number): void {
    if (this.length + extra > this.maxChars) throw new TextTooLongError(this.maxChars);
  }

  addBlock(text: string): void {
    if (text.trim() === '') return;
    this.length += text.length + 2;
    if (this.length > this.maxChars + 2) throw new TextTooLongError(this.maxChars);
    this.blocks.push(text);
  }

  toString(): string {
    return this.blocks.join('\n\n');
  }
}
