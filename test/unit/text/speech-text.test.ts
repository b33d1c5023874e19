import { describe, expect, it } from 'vitest';
import { isSpeakable, toSpokenText } from '../../../src/text/speech-text.js';

describe('text made for speech', () => {
  it('drops markdown marks but keeps the words', () => {
    expect(toSpokenText('## Chương 1\n\n**Ngày xưa**, có _một_ cô bé.\n\n---\n\n* Mục một')).toBe('Chương 1 Ngày xưa, có một cô bé. Mục một');
    expect(toSpokenText('See [the map](http://x.y/z) now')).toBe('See the map now');
  });

  it('keeps dialogue dashes and snake_case words', () => {
    expect(toSpokenText('- Con đi đâu?\n- Con đi chợ.')).toBe('- Con đi đâu? - Con đi chợ.');
    expect(toSpokenText('file_name_here')).toBe('file_name_here');
  });

  it('knows when there is nothing to say', () => {
    expect(isSpeakable('* * * — …')).toBe(false);
    expect(isSpeakable('Ồ!')).toBe(true);
    expect(isSpeakable('1945')).toBe(true);
  });
});
