/**
 * Runs every release step (close an app, drop a database, remove Redis keys, remove a folder) in
 * order, each one even when an earlier one failed, so that one failure does not leave the rest
 * held for the tests after it.
 * @throws the first step's error once every step has run (all of them, as an AggregateError, when
 * more than one failed).
 */
export async function releaseAll(steps: Array<() => Promise<unknown> | unknown>): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} release steps failed`);
}
