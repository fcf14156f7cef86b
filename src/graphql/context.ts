/** The per-request (HTTP) or per-operation (graphql-ws) context of resolvers. */
import type { JobDeps, Viewer } from '../jobs/deps.js';
import type { UpdateHub } from '../progress/hub.js';
import { historyOf } from '../jobs/queries.js';
import { notificationsOf } from '../notifications/queries.js';
import type { DeliveryToSend } from '../db/notifications.js';
import { batchLoader } from './batch.js';

export type HistoryRow = Awaited<ReturnType<typeof historyOf>>[number];

export interface GraphQLContext {
  deps: JobDeps;
  hub: UpdateHub;
  viewer: Viewer;
  /** Batches history reads of every Job in one response into one query. */
  history(jobId: string): Promise<HistoryRow[]>;
  /** Batches notification-delivery reads of every Job in one response into one query. */
  notifications(jobId: string): Promise<DeliveryToSend[]>;
  /** The request's W3C `traceparent` header, continued by `submitJob`. */
  traceparent: string | null;
}

/** Request details the transport knows. */
export interface RequestInfo {
  traceparent?: string | null;
}

export function createContext(deps: JobDeps, hub: UpdateHub, viewer: Viewer, request: RequestInfo = {}): GraphQLContext {
  let batch: Map<string, ((rows: HistoryRow[]) => void)[]> | null = null;
  let fail: ((e: unknown) => void)[] = [];
  return {
    deps,
    hub,
    viewer,
    traceparent: request.traceparent ?? null,
    notifications: batchLoader((ids) => notificationsOf(deps, ids), (r) => r.jobId),
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
