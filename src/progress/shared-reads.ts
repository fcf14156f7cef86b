/**
 * Reads shared by the subscriptions that ask PostgreSQL the same thing at the same time: after a reconnect
 * the hub tells every subscription to resync at once, and `jobUpdates` subscriptions of one viewer with one
 * filter ask for the same recorded changes.
 */

/** Runs `read`, or joins the identical read (same `key`) that has not started yet. */
export type SharedReads = <R>(key: string, read: () => Promise<R>) => Promise<R>;

/**
 * The calls with one key made before its read starts share it (and its failure); the read starts once the
 * burst of calls is over (`setImmediate`). A call made after it started gets a read of its own: its caller
 * may have dropped live updates just before, which an answer read earlier would not have.
 */
export function createSharedReads(): SharedReads {
  const waiting = new Map<string, Promise<unknown>>();
  return <R>(key: string, read: () => Promise<R>): Promise<R> => {
    let answer = waiting.get(key) as Promise<R> | undefined;
    if (!answer) {
      answer = new Promise<void>((r) => setImmediate(r)).then(() => {
        waiting.delete(key);
        return read();
      });
      waiting.set(key, answer);
    }
    return answer;
  };
}

/** No sharing: each call reads. */
export const unshared: SharedReads = (_key, read) => read();
