/** The per-request (HTTP) or per-operation (graphql-ws) context of resolvers. */
import type { JobDeps, Viewer } from '../jobs/deps.js';
import { payloadBudget, type PayloadBudget } from '../jobs/submit-check.js';
import type { UpdateHub } from '../progress/hub.js';
import { attemptErrors, eventPages, idempotencyKeys, startByTimes, type EventsPage } from '../jobs/queries.js';
import type { EventRow, EventsPageRead } from '../db/queries.js';
import { notificationsOf } from '../notifications/queries.js';
import { validTraceparent } from '../observability/tracing.js';
import type { DeliveryToSend } from '../db/notifications.js';
import { batchCalls, batchLoader } from './batch.js';
import type { SubmitRateLimiter } from './submit-rate.js';

export interface GraphQLContext {
  deps: JobDeps;
  hub: UpdateHub;
  viewer: Viewer;
  /** The API key of the request (null when auth is off); per-key limits count on it. */
  keyId: string | null;
  /**
   * Batches the `events` pages of every Job in one response into one query. Rows after the job's seq as
   * read are left out: a job's history and its other fields in one answer are one read of it.
   */
  events(job: { id: string; seq: number }, page: EventsPage): Promise<EventRow[]>;
  /** Batches the attempt errors of every Job in one response into one query. */
  attemptErrors(jobId: string): Promise<EventRow[]>;
  /** Batches the idempotency keys of every Job in one response into one query (none: an empty list). */
  idempotencyKeys(jobId: string): Promise<{ idempotencyKey: string }[]>;
  /** Batches the `startBy` of every Job in one response into one query (none: an empty list). */
  startBy(jobId: string): Promise<{ startBy: Date }[]>;
  /** Batches notification-delivery reads of every Job in one response into one query. */
  notifications(jobId: string): Promise<DeliveryToSend[]>;
  /** The request's W3C `traceparent` header, continued by `submitJob`; null when absent or not valid. */
  traceparent: string | null;
  /** The jobs this operation was charged on its key's submit rate, and how to give back those not submitted. */
  submits: SubmitCharge;
  /**
   * The payload bytes this operation's submits may still write, shared by its `submitJob` and `submitJobs`
   * fields (fields GraphQL merges run once, and count once).
   */
  payloads: PayloadBudget;
}

export interface SubmitCharge {
  /**
   * Charges the operation's `jobs` on its key's submit rate, or throws RATE_LIMITED (charging nothing): the
   * transport's check, once the operation is known and before it runs. No-op without a key.
   */
  take(jobs: number): void;
  /** Gives back up to `jobs` of the charged tokens: for refused submits, which wrote nothing. */
  refund(jobs: number): void;
}

/** Request details the transport knows. */
export interface RequestInfo {
  traceparent?: string | null;
  /** The API key the request authenticated with. */
  keyId?: string | null;
  /** The submit rate limiter the operation is charged on. */
  submitRate?: SubmitRateLimiter;
}

export function createContext(deps: JobDeps, hub: UpdateHub, viewer: Viewer, request: RequestInfo = {}): GraphQLContext {
  return {
    deps,
    hub,
    viewer,
    keyId: request.keyId ?? null,
    traceparent: validTraceparent(request.traceparent),
    submits: submitCharge(request),
    payloads: payloadBudget(deps.maxOperationPayloadBytes),
    notifications: batchLoader((ids) => notificationsOf(deps, ids), (r) => r.jobId),
    events: eventsLoader(deps),
    attemptErrors: batchLoader((ids) => attemptErrors(deps, ids), (r) => r.jobId),
    idempotencyKeys: batchLoader((ids) => idempotencyKeys(deps, ids), (r) => r.id),
    startBy: batchLoader((ids) => startByTimes(deps, ids), (r) => r.id),
  };
}

function eventsLoader(deps: JobDeps): GraphQLContext['events'] {
  const load = batchCalls(
    (reads: EventsPageRead[]) => eventPages(deps, reads),
    (r) => `${r.jobId} ${r.untilSeq} ${r.afterSeq} ${r.limit} ${r.newest}`,
  );
  return (job, page) => load({ jobId: job.id, untilSeq: job.seq, ...page });
}

function submitCharge({ submitRate, keyId }: RequestInfo): SubmitCharge {
  /** Tokens taken for this operation and not given back. */
  let charged = 0;
  return {
    take(jobs) {
      if (submitRate && keyId) charged += submitRate.take(keyId, jobs);
    },
    refund(jobs) {
      const n = Math.min(jobs, charged);
      if (n <= 0 || !submitRate || !keyId) return;
      charged -= n;
      submitRate.refund(keyId, n);
    },
  };
}
