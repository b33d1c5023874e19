/** A media binary that ran and failed (non-zero exit or killed by a signal). */
export class MediaCommandError extends Error {
  constructor(
    message: string,
    readonly binary: string,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderrTail: string,
  ) {
    super(message);
    this.name = 'MediaCommandError';
  }
}
