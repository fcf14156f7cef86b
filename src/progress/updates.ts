/**
 * Job updates: built from a job row or a history row, and published on the job's core-NATS subject after
 * the change is committed. Publishing is fire-and-forget: PostgreSQL has the change, and subscribers
 * resynchronise from it after a reconnect.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { JobEventRow } from '../db/schema.js';
import { changeError, changeMessage, type ChangedUpdate } from '../db/transition.js';
import type { JobUpdateMessage } from '../messaging/messages.js';
import { encode } from '../messaging/messages.js';
import type { Names } from '../messaging/names.js';

/**
 * The update a job row stands for (its latest recorded change): as its history row records it, when the row
 * is a transition's answer (the message and error decided with it, transition.ts `CHANGE_MESSAGE`) or a
 * submit's.
 */
export function updateFromJob(job: ChangedUpdate): JobUpdateMessage {
  return {
    jobId: job.id,
    type: job.type,
    owner: job.owner,
    seq: job.seq,
    state: job.state,
    progress: job.progress,
    message: changeMessage(job),
    attempt: job.attempts,
    at: job.updatedAt.toISOString(),
    result: job.state === 'SUCCEEDED' ? job.result : null,
    error: changeError(job),
  };
}

/** The update a history row records. */
export function updateFromEvent(type: string, e: JobEventRow): JobUpdateMessage {
  return {
    jobId: e.jobId,
    type,
    seq: e.seq,
    state: e.state,
    progress: e.progress,
    message: e.message,
    attempt: e.attempt,
    at: e.at.toISOString(),
    result: e.state === 'SUCCEEDED' ? e.result : null,
    error: e.error,
  };
}

/** Publishes an update; never throws (a closed or reconnecting connection just drops it). */
export function publishUpdate(nc: NatsConnection, n: Names, u: JobUpdateMessage): void {
  try {
    nc.publish(n.updateSubject(u.type, u.state, u.jobId), encode(u));
  } catch {
    // PostgreSQL has the change; subscribers resync from it.
  }
}
