import { cleanStoryText } from '../../text/normalize.js';
import { splitTitle } from '../../text/title.js';
import { ProviderError } from '../provider-error.js';
import type { StoryWriteRequest, StoryWriter, WrittenStory } from '../types.js';

/**
 * The offline story writer: keeps the user's text as the story. The title is the text's title line
 * or comes from the file name (`splitTitle`); the content is the rest, hard-wrapped lines joined
 * and paragraphs separated by one blank line (`cleanStoryText`). It invents nothing: style,
 * custom prompt and language are ignored, and it returns no image prompts (the image step then
 * draws from each chunk's own text).
 */
export class SourceStoryWriter implements StoryWriter {
  readonly name = 'source';

  /**
   * @throws ProviderError (`permanent`) when the upload has no story text besides a title
   * @throws the signal's reason when `request.signal` is already aborted
   */
  async write(request: StoryWriteRequest): Promise<WrittenStory> {
    request.signal?.throwIfAborted();
    const { title, body } = splitTitle(request.sourceText, request.fileName);
    const content = cleanStoryText(body);
    if (content === '') {
      const file = request.fileName ? `"${request.fileName}"` : 'The upload';
      throw new ProviderError(
        `${file} has no story text to keep${title ? ` (only the title "${title}")` : ''}; upload a file that contains the story.`,
        'permanent',
        this.name,
      );
    }
    return { title, content, imagePrompts: [], model: 'source' };
  }
}
