/** Per-request batching: every `load(id)` in one tick becomes one `fetch(ids)` call. */

/**
 * Makes a loader that collects the ids asked for in one microtask and fetches them together;
 * `keyOf` says which id a fetched row belongs to.
 */
export function batchLoader<R>(fetch: (ids: string[]) => Promise<R[]>, keyOf: (row: R) => string): (id: string) => Promise<R[]> {
  type Waiter = { resolve: (rows: R[]) => void; reject: (e: unknown) => void };
  let pending: Map<string, Waiter[]> | null = null;
  return (id) =>
    new Promise((resolve, reject) => {
      if (!pending) {
        const batch: Map<string, Waiter[]> = (pending = new Map());
        queueMicrotask(() => {
          pending = null;
          fetch([...batch.keys()]).then(
            (rows) => {
              for (const [key, waiters] of batch) {
                const mine = rows.filter((r) => keyOf(r) === key);
                for (const w of waiters) w.resolve(mine);
              }
            },
            (e) => batch.forEach((waiters) => waiters.forEach((w) => w.reject(e))),
          );
        });
      }
      const waiters = pending.get(id) ?? [];
      waiters.push({ resolve, reject });
      pending.set(id, waiters);
    });
}
