/**
 * Group commit: calls made while a batch is being written wait in a queue and are written together, in one
 * statement and one commit, as soon as it returns. There is no added wait when the queue is empty, so a lone
 * call costs what it did; under load the batches grow by themselves. With `gather`, a call that finds the
 * queue idle waits for the calls made in the same burst (until the current I/O callbacks are done,
 * `setImmediate`): a burst (the messages of one fetch, the handlers they ran) is one batch, instead of its
 * first call alone and then the rest.
 *
 * `write` answers one result per call, in order. A failure of the shared statement fails every call in it
 * (nothing of any of them was written); callers retry as they would a single statement. With `alone`, a
 * batch that fails with an error it accepts (e.g. a data exception: a value in one row the statement refused) is
 * written again one call at a time, so that only the call that caused it fails.
 */
export function groupCommit<C, R>(
  write: (calls: C[]) => Promise<R[]>,
  o: { maxSize: number; sizeOf?: (call: C) => number; gather?: boolean; alone?: (error: unknown) => boolean },
): (call: C) => Promise<R> {
  type Queued = { call: C; resolve: (r: R) => void; reject: (e: unknown) => void };
  const sizeOf = o.sizeOf ?? (() => 1);
  const queue: Queued[] = [];
  let running = false;

  async function drain(): Promise<void> {
    while (queue.length) {
      const batch: Queued[] = [];
      let size = 0;
      while (queue.length && (batch.length === 0 || size + sizeOf(queue[0]!.call) <= o.maxSize)) {
        const q = queue.shift()!;
        batch.push(q);
        size += sizeOf(q.call);
      }
      try {
        const results = await write(batch.map((q) => q.call));
        batch.forEach((q, i) => q.resolve(results[i]!));
      } catch (e) {
        if (batch.length > 1 && o.alone?.(e)) {
          for (const q of batch) await write([q.call]).then(([r]) => q.resolve(r!), q.reject);
        } else for (const q of batch) q.reject(e);
      }
    }
    running = false;
  }

  return (call) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ call, resolve, reject });
      if (running) return;
      running = true;
      if (o.gather) setImmediate(() => void drain());
      else void drain();
    });
}
