import { describe, expect, it } from 'vitest';
import { normalizeText } from '../../../src/text/normalize.js';
import { splitTitle, titleFromFileName } from '../../../src/text/title.js';
import { sampleText } from '../../support/samples.js';

describe('splitTitle', () => {
  it.each([
    ['en/en_andersen_little_match_girl.txt', 'The Little Match Girl', 'Most terribly cold it was'],
    ['en/en_grimm_frog_prince.txt', 'The Frog-Prince', 'One fine evening'],
    ['en/en_grimm_hansel_and_gretel.txt', 'Hansel and Gretel', 'Hard by a great forest'],
    ['en/en_grimm_rumpelstiltskin.txt', 'Rumpelstiltskin', 'By the side of a wood'],
    ['en/en_wilde_selfish_giant.txt', 'The Selfish Giant', 'Every afternoon, as they were'],
    ['other/fr_perrault_petit_chaperon_rouge.txt', 'Le petit Chaperon rouge', 'Il était une fois'],
    ['vi/vi_su_tich_ho_ba_be.txt', 'Sự tích Hồ Ba Bể', 'Ngày xưa, ở vùng Bắc Kạn'],
    ['vi/vi_su_tich_cay_thi_la.txt', 'Sự tích cây thì là', 'Ở Việt Nam có lưu truyền'],
    ['vi/vi_thanh_giong.txt', 'Thánh Gióng', 'Chuyện kể rằng'],
  ])('%s → "%s"', (file, title, opening) => {
    const text = normalizeText(sampleText(`stories/${file}`));
    const result = splitTitle(text, file.split('/')[1]);
    expect(result.title).toBe(title);
    expect(result.body.startsWith(opening)).toBe(true);
    expect(text.endsWith(result.body)).toBe(true);
  });

  it('keeps a mixed-case title as written', () => {
    expect(splitTitle('The Frog-prince of McDonald\'s Wood\n\nOnce upon a time.').title).toBe("The Frog-prince of McDonald's Wood");
  });

  it('puts ALL-CAPS titles in title case, lower-casing minor words but not the first or last', () => {
    expect(splitTitle('THE GIANT\'S GARDEN AND THE SNOW\n\nText.').title).toBe("The Giant's Garden and the Snow");
    expect(splitTitle('OF MICE AND MEN, PART II\n\nText.').title).toBe('Of Mice and Men, Part II');
  });

  it('does not take the opening sentence for a title', () => {
    const text = 'Once upon a time there was a king.\n\nHe had three daughters.';
    expect(splitTitle(text, 'en_the_kings_daughters.txt')).toEqual({ title: 'The kings daughters', body: text });
  });

  it('accepts a very short title that ends in punctuation', () => {
    expect(splitTitle('Help!\n\nThe wolf came.').title).toBe('Help!');
    expect(splitTitle('“Run, Boy, Run!”\n\nThe wolf came.').title).toBe('“Run, Boy, Run!”');
  });

  it('needs a blank line after the title line', () => {
    const text = 'The Wolf\nand the seven young kids went out.';
    expect(splitTitle(text, 'wolf.txt')).toEqual({ title: 'Wolf', body: text });
  });

  it('refuses lines that are too long or have too many words', () => {
    const sixteen = 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen';
    expect(splitTitle(`${sixteen}\n\nBody.`).title).toBe('Untitled story');
    expect(splitTitle(`${'Long'.repeat(26)}\n\nBody.`).title).toBe('Untitled story');
  });

  it('does not take a dialogue line for a title', () => {
    expect(splitTitle('- Hello\n\n- Goodbye', 'vi_loi_chao.txt').title).toBe('Loi chao');
  });

  it('skips blank lines before the title and trims the body', () => {
    expect(splitTitle('\n\n  Thánh Gióng  \n\n\n\nChuyện kể rằng.\n\n')).toEqual({ title: 'Thánh Gióng', body: 'Chuyện kể rằng.' });
  });
});

describe('titleFromFileName', () => {
  it.each([
    ['vi_su_tich_ho_ba_be.txt', 'Su tich ho ba be'],
    ['en-the-frog-prince.docx', 'The frog prince'],
    ['C:\\Users\\me\\Stories\\my_story.doc', 'My story'],
    ['/uploads/thánh_gióng.txt', 'Thánh gióng'],
    ['fr_.txt', 'Fr'],
    ['___.txt', 'Untitled story'],
    ['', 'Untitled story'],
    [undefined, 'Untitled story'],
  ])('%j → %j', (fileName, title) => {
    expect(titleFromFileName(fileName)).toBe(title);
  });
});
