/**
 * Text made for a speech engine: markdown and decoration removed, whitespace collapsed.
 * The written form (story.md, subtitles) keeps the original; only the spoken copy changes.
 */
export function toSpokenText(text: string): string {
  return text
    .replace(/^\s{0,3}#{1,6}\s+/gm, '') // headings
    .replace(/^\s*(?:[-*_]\s*){3,}$/gm, ' ') // horizontal rules
    .replace(/^\s*[*+•]\s+/gm, '') // bullet marks (a leading "- " is dialogue in many stories and stays)
    .replace(/(\*\*|__)(.+?)\1/g, '$2') // bold
    .replace(/(?<![\p{L}\p{N}])[*_]([^*_\n]+)[*_](?![\p{L}\p{N}])/gu, '$1') // italics
    .replace(/`+([^`]*)`+/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1') // links keep their text
    .replace(/\s+/g, ' ')
    .trim();
}

/** True when the text has something to say: at least one letter or digit. */
export function isSpeakable(text: string): boolean {
  return /[\p{L}\p{N}]/u.test(text);
}
