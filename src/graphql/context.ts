/** The per-request (HTTP) or per-operation (graphql-ws) context of resolvers. */
import type { JobDeps, Viewer } from '../jobs/deps.js';
import type { UpdateHub } from '../progress/hub.js';
import { historyOf } from '../jobs/queries.js';

export type HistoryRow = Awaited<ReturnType<typeof historyOf>>[number];

export interface GraphQLContext {
  deps: JobDeps;
  hub: UpdateHub;
  viewer: Viewer;
  /** The API key of the request (null when auth is off); per-key limits count on it. */
  keyId: string | null;
  /** Batches history reads of every Job in one response into one query. */
  history(jobId: string): Promise<HistoryRow[]>;
}

export function createContext(deps: JobDeps, hub: UpdateHub, viewer: Viewer, keyId: string | null = null): GraphQLContext {
  let batch: Map<string, ((rows: HistoryRow[]) => void)[]> | null = null;
  let fail: ((e: unknown) => void)[] = [];
  return {
    deps,
    hub,
    viewer,
    keyId,
    history(jobId) {
      return new Promise((resolve, reject) => {
        if (!batch) {
          const current = (batch = new Map());
          const failures: ((e: unknown) => void)[] = (fail = []);
          queueMicrotask(() => {
            batch = null;
            historyOf(deps, [...current.keys()])
              .then((rows) => {
                for (const [id, waiters] of current) {
                  const mine = rows.filter((r) => r.jobId === id);
                  for (const w of waiters) w(mine);
                }
              })
              .catch((e) => failures.forEach((f) => f(e)));
          });
        }
        const waiters = batch.get(jobId) ?? [];
        waiters.push(resolve);
        batch.set(jobId, waiters);
        fail.push(reject);
      });
    },
  };
}
