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
  /** The API key of the request (null when auth is off); per-key limits count on it. */
  keyId: string | null;
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
  /** The API key the request authenticated with. */
  keyId?: string | null;
}

export function createContext(deps: JobDeps, hub: UpdateHub, viewer: Viewer, request: RequestInfo = {}): GraphQLContext {
  return {
    deps,
    hub,
    viewer,
    keyId: request.keyId ?? null,
    traceparent: request.traceparent ?? null,
    notifications: batchLoader((ids) => notificationsOf(deps, ids), (r) => r.jobId),
    history: batchLoader((ids) => historyOf(deps, ids), (r) => r.jobId),
  };
}
