import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../../src/providers/provider-error.js';
import { SourceStoryWriter } from '../../../src/providers/story-writer/source.js';
import type { StoryWriteRequest } from '../../../src/providers/types.js';
import { extractText } from '../../../src/text/extract.js';
import { sampleBytes, sampleText, storyFiles } from '../../support/samples.js';

const writer = new SourceStoryWriter();

function request(sourceText: string, fileName?: string): StoryWriteRequest {
  return { sourceText, fileName, language: 'en', style: { tone: 'dark' }, customPrompt: 'Make it funny', wordPerChunkImage: 120 };
}

const expectedTitles: Record<string, string> = {
  'en_andersen_little_match_girl.txt': 'The Little Match Girl',
  'en_grimm_frog_prince.txt': 'The Frog-Prince',
  'en_grimm_hansel_and_gretel.txt': 'Hansel and Gretel',
  'en_grimm_rumpelstiltskin.txt': 'Rumpelstiltskin',
  'en_wilde_selfish_giant.txt': 'The Selfish Giant',
  'fr_perrault_petit_chaperon_rouge.txt': 'Le petit Chaperon rouge',
  'vi_su_tich_ho_ba_be.txt': 'Sự tích Hồ Ba Bể',
  'vi_su_tich_cay_thi_la.txt': 'Sự tích cây thì là',
  'vi_thanh_giong.txt': 'Thánh Gióng',
};

describe('SourceStoryWriter on the story samples', () => {
  it('is named "source"', () => {
    expect(writer.name).toBe('source');
  });

  it.each(storyFiles().map((f) => [f.name, f.path] as const))('%s: expected title, text kept, nothing invented', async (name, path) => {
    const { text } = await extractText(sampleBytes(path), name);
    const story = await writer.write(request(text, name));
    expect(story.title).toBe(expectedTitles[name]);
    expect(story.imagePrompts).toEqual([]);
    expect(story.model).toBe('source');
    expect(story.content.startsWith(story.title)).toBe(false);
    expect(story.content).not.toMatch(/\n{3}|^\s|\s$/);
    // Same words in the same order as the file, less the title.
    const words = (s: string) => s.split(/\s+/).filter(Boolean);
    expect(words(story.content)).toEqual(words(text).slice(words(story.title).length));
  });

  it.each(['vi_su_tich_ho_ba_be.txt', 'vi_su_tich_cay_thi_la.txt', 'vi_thanh_giong.txt'])(
    '%s: content equals the file body (NFC)',
    async (name) => {
      const raw = sampleText(`stories/vi/${name}`);
      const body = raw.slice(raw.indexOf('\n\n') + 2).trimEnd().normalize('NFC');
      const story = await writer.write(request(raw, name));
      expect(story.content).toBe(body);
    },
  );

  it('joins the hard-wrapped lines of an English sample into paragraphs', async () => {
    const story = await writer.write(request(sampleText('stories/en/en_andersen_little_match_girl.txt')));
    const paragraphs = story.content.split('\n\n');
    expect(paragraphs[0]).toBe(
      'Most terribly cold it was; it snowed, and was nearly quite dark, and evening—the last evening of the year. ' +
        'In this cold and darkness there went along the street a poor little girl, bareheaded, and with naked feet. ' +
        'When she left home she had slippers on, it is true; but what was the good of that? They were very large ' +
        'slippers, which her mother had hitherto worn; so large were they; and the poor little thing lost them as she ' +
        'scuffled away across the street, because of two carriages that rolled by dreadfully fast.',
    );
    expect(paragraphs.every((p) => !p.includes('\n'))).toBe(true);
  });
});

describe('SourceStoryWriter without a story', () => {
  it('takes the title from the file name when the text has none', async () => {
    const story = await writer.write(request('Once upon a time there was a frog.', 'en_the_frog.txt'));
    expect(story).toEqual({ title: 'The frog', content: 'Once upon a time there was a frog.', imagePrompts: [], model: 'source' });
  });

  it('a text that is only a title → permanent ProviderError', async () => {
    const error = await writer.write(request('THE END\n\n\n', 'end.txt')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: 'permanent', provider: 'source' });
    expect((error as Error).message).toContain('"end.txt" has no story text');
  });

  it('an empty text → permanent ProviderError', async () => {
    await expect(writer.write(request('  \n\n '))).rejects.toMatchObject({ kind: 'permanent', provider: 'source' });
  });

  it('stops when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    await expect(writer.write({ ...request('Some story.'), signal: controller.signal })).rejects.toThrow('cancelled');
  });
});
