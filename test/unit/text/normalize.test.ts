import { describe, expect, it } from 'vitest';
import { cleanStoryText, normalizeText } from '../../../src/text/normalize.js';
import { splitTitle } from '../../../src/text/title.js';
import { sampleText } from '../../support/samples.js';

describe('normalizeText', () => {
  it('removes one leading BOM, turns CRLF and CR into LF', () => {
    expect(normalizeText('\uFEFFone\r\ntwo\rthree\n')).toBe('one\ntwo\nthree');
  });

  it('composes to NFC', () => {
    const nfd = 'Sự tích Hồ Ba Bể'.normalize('NFD');
    expect(nfd).not.toBe('Sự tích Hồ Ba Bể');
    expect(normalizeText(nfd)).toBe('Sự tích Hồ Ba Bể');
  });

  it('removes control characters but keeps tabs and line breaks', () => {
    expect(normalizeText('a\u0000b\u0007c\td\u001Be\u007Ff\u0085g')).toBe('abc\tdef\ng');
  });

  it('removes trailing spaces on lines and blank lines at both ends, keeps indentation and inner blank lines', () => {
    expect(normalizeText('\n\n  \n  Title  \n\n\n   verse line\t\nend \n\n \n')).toBe('  Title\n\n\n   verse line\nend');
  });

  it('keeps everything else exactly as written', () => {
    const text = 'He said:  «Va voir»… — “Yes”, 3,000 Ð';
    expect(normalizeText(text)).toBe(text);
  });

  it('is idempotent on every story sample', () => {
    const once = normalizeText(sampleText('stories/en/en_wilde_selfish_giant.txt'));
    expect(normalizeText(once)).toBe(once);
  });
});

describe('cleanStoryText', () => {
  it('joins hard-wrapped lines of a Project Gutenberg paragraph with one space', () => {
    const body = splitTitle(normalizeText(sampleText('stories/en/en_grimm_frog_prince.txt'))).body;
    const cleaned = cleanStoryText(body);
    expect(cleaned).toContain(
      'One fine evening a young princess put on her bonnet and clogs, and went out to take a walk by herself in a wood;',
    );
    const paragraphs = cleaned.split('\n\n');
    expect(paragraphs[0]).not.toContain('\n');
    expect(cleaned).not.toMatch(/\n{3}/);
  });

  it('keeps indented verse lines on their own lines, without the indentation', () => {
    const cleaned = cleanStoryText(sampleText('stories/en/en_grimm_rumpelstiltskin.txt'));
    expect(cleaned).toContain("and whistled and sang:\n\n'Round about, round about,\nLo and behold!\nReel away, reel away,\nStraw into gold!'\n\nAnd round about");
  });

  it('keeps a dialogue line on its own line and joins its wrapped continuation', () => {
    const text = 'She asked:\n- Where are you going so\nlate at night?\n– Home, he said.\n— Goodbye.';
    expect(cleanStoryText(text)).toBe('She asked:\n- Where are you going so late at night?\n– Home, he said.\n— Goodbye.');
  });

  it('collapses runs of blank lines to one', () => {
    expect(cleanStoryText('One.\n\n\n\n\nTwo.\n \n\t\nThree.')).toBe('One.\n\nTwo.\n\nThree.');
  });

  it.each(['vi_su_tich_ho_ba_be.txt', 'vi_su_tich_cay_thi_la.txt', 'vi_thanh_giong.txt'])(
    'leaves one-paragraph-per-line text (%s) unchanged apart from normalisation',
    (file) => {
      const text = sampleText(`stories/vi/${file}`);
      expect(cleanStoryText(text)).toBe(normalizeText(text));
    },
  );

  it('leaves a block of long lines (one paragraph per line, no blank lines) as it is', () => {
    const long = 'word '.repeat(30).trim();
    const text = `${long}.\n${long}!\n${long}?`;
    expect(cleanStoryText(text)).toBe(text);
  });

  it('gives an empty string for text without words', () => {
    expect(cleanStoryText(' \n\n\t\n')).toBe('');
  });
});
