/** Per-request batching: every call made in one tick becomes one fetch of them all. */

/**
 * Makes a function whose calls made in one microtask are fetched together: `fetch(queries)` answers one
 * answer per query, in order. Calls with the same `keyOf` share one query (and its answer).
 */
export function batchCalls<Q, A>(fetch: (queries: Q[]) => Promise<A[]>, keyOf: (query: Q) => string): (query: Q) => Promise<A> {
  type Waiter = { resolve: (answer: A) => void; reject: (e: unknown) => void };
  let pending: Map<string, { query: Q; waiters: Waiter[] }> | null = null;
  return (query) =>
    new Promise((resolve, reject) => {
      if (!pending) {
        const batch: Map<string, { query: Q; waiters: Waiter[] }> = (pending = new Map());
        queueMicrotask(() => {
          pending = null;
          const calls = [...batch.values()];
          fetch(calls.map((c) => c.query)).then(
            (answers) => calls.forEach((c, i) => c.waiters.forEach((w) => w.resolve(answers[i]!))),
            (e) => calls.forEach((c) => c.waiters.forEach((w) => w.reject(e))),
          );
        });
      }
      const key = keyOf(query);
      const call = pending.get(key) ?? { query, waiters: [] };
      call.waiters.push({ resolve, reject });
      pending.set(key, call);
    });
}

/**
 * Makes a loader that collects the ids asked for in one microtask and fetches them together;
 * `keyOf` says which id a fetched row belongs to.
 */
export function batchLoader<R>(fetch: (ids: string[]) => Promise<R[]>, keyOf: (row: R) => string): (id: string) => Promise<R[]> {
  return batchCalls(async (ids: string[]) => {
    const byId = new Map<string, R[]>(ids.map((id) => [id, []]));
    for (const row of await fetch(ids)) byId.get(keyOf(row))?.push(row);
    return ids.map((id) => byId.get(id)!);
  }, (id) => id);
}
