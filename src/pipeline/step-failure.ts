import { UnrecoverableError } from 'bullmq';
import { ProviderError } from '../providers/provider-error.js';
import { IntakeError } from '../text/intake-error.js';

/** A step cannot succeed with this story as it is (retrying would give the same answer). */
export class PermanentStepError extends Error {
  override readonly name = 'PermanentStepError';
}

/** True when retrying cannot help: a refusal, invalid input, a 4xx, a file that cannot be read. */
export function isPermanent(error: unknown): boolean {
  return (
    error instanceof UnrecoverableError ||
    error instanceof PermanentStepError ||
    (error instanceof ProviderError && error.kind === 'permanent') ||
    error instanceof IntakeError
  );
}

/** One line that says what went wrong, for story.error and batch results. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0]!.slice(0, 2000);
  return String(error);
}
