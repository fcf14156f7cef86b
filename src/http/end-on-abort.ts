/**
 * Wraps a subscription's async iterator so that an AbortSignal ends it: the pending (and every later)
 * `next()` rejects with the signal's reason, and the source is returned (its resources released).
 * graphql-ws turns that rejection into an `error` message for the operation.
 */
export function endOnAbort<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T, undefined> {
  const it = source[Symbol.asyncIterator]();
  let fail!: (reason: unknown) => void;
  const aborted = new Promise<never>((_, reject) => (fail = reject));
  aborted.catch(() => {});
  const onAbort = () => fail(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  const stopListening = () => signal.removeEventListener('abort', onAbort);

  const wrapped: AsyncGenerator<T, undefined> = {
    async next() {
      try {
        const r = await Promise.race([it.next(), aborted]);
        if (r.done) stopListening();
        return r as IteratorResult<T, undefined>;
      } catch (e) {
        stopListening();
        await it.return?.();
        throw e;
      }
    },
    async return() {
      stopListening();
      await it.return?.();
      return { done: true, value: undefined };
    },
    async throw(e: unknown) {
      stopListening();
      if (it.throw) return (await it.throw(e)) as IteratorResult<T, undefined>;
      throw e;
    },
    [Symbol.asyncIterator]() {
      return wrapped;
    },
  };
  return wrapped;
}
