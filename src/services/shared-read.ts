/**
 * Shares one in-flight read per key among the callers that ask for it at the same time: while a
 * read of `key` runs, further callers get its result instead of starting their own; the next
 * caller after it settles starts a new read. Nothing is kept afterwards, so a caller never gets
 * data read before it arrived by more than one read's duration. Errors reach every waiting caller.
 * Used where many clients poll the same row (a batch's status, a session behind one token).
 */
export class SharedReads<V> {
  private readonly inFlight = new Map<string, Promise<V>>();

  /** The result of `read()`, or of the read of `key` already running. */
  run(key: string, read: () => Promise<V>): Promise<V> {
    const running = this.inFlight.get(key);
    if (running) return running;
    const started = read().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }
}
