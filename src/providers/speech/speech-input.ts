import { describeCall, type ProviderCallContext } from '../provider-call.js';
import { ProviderError } from '../provider-error.js';

/**
 * Refuses empty text and text over the provider's limit before any call.
 * @param maxInputChars the provider's limit, characters (UTF-16 code units, which never undercount).
 * @throws ProviderError (permanent).
 */
export function checkSpeechText(text: string, maxInputChars: number, context: ProviderCallContext): void {
  if (text.trim() === '') throw new ProviderError(`${describeCall(context)}: the text to speak is empty`, 'permanent', context.provider);
  if (text.length > maxInputChars) {
    throw new ProviderError(
      `${describeCall(context)}: the text has ${text.length} characters, more than the ${maxInputChars} one call accepts`,
      'permanent',
      context.provider,
    );
  }
}
