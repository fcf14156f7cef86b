/**
 * Job updates: built from a job row or a history row, and published on the job's core-NATS subject after
 * the change is committed (jobs submitted together: their submissions in one message, `publishUpdates`). Publishing is fire-and-forget: PostgreSQL has the change, and subscribers
 * resynchronise from it after a reconnect.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { JobEventRow } from '../db/schema.js';
import { changeError, changeMessage, type ChangedUpdate } from '../db/transition.js';
import { encode, jobsSubmittedSchema, jobUpdateSchema, parseMessage, type JobUpdateMessage } from '../messaging/messages.js';
import { SUBMITTED_TOKEN, type Names } from '../messaging/names.js';

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
  publishDroppable(nc, n.updateSubject(u.type, u.state, u.jobId), u);
}

/** Publishes on an update subject; never throws: PostgreSQL has the change, and subscribers resync from it. */
function publishDroppable(nc: NatsConnection, subject: string, body: unknown): void {
  try {
    nc.publish(subject, encode(body));
  } catch {
    // dropped (closed or reconnecting connection)
  }
}

/** Most job ids one submissions message lists: about 40 bytes each, far under NATS' smallest max_payload. */
const MAX_SUBMITTED_IDS = 1000;

/**
 * Publishes updates (never throws). Submissions (a job's first update: seq 1, QUEUED) that say the same but
 * for the job id, as a `submitJobs` batch's or one group commit's submits of a type do, go as one message per
 * MAX_SUBMITTED_IDS on the type's `submittedSubject` (`jobsSubmittedSchema`): a thousand publishes of
 * a bulk submit's QUEUED updates were nearly a fifth of the API's CPU per job (docs/performance.md).
 * Such a message reaches the type and state patterns (`jobUpdates` by type or state), not a job's own
 * (`jobProgress`, `jobUpdates(ids)`): no one can watch a job by its id before its submit has committed, and
 * a watch that starts after that reads the job from PostgreSQL once it listens, so its submission, sent live,
 * would be a repeat that its seq drops.
 */
export function publishUpdates(nc: NatsConnection, n: Names, updates: readonly JobUpdateMessage[]): void {
  const submitted = new Map<string, { update: Omit<JobUpdateMessage, 'jobId'>; jobIds: string[] }>();
  for (const u of updates) {
    if (u.seq !== 1 || u.state !== 'QUEUED' || u.result != null || u.error != null) {
      publishUpdate(nc, n, u);
      continue;
    }
    const { jobId, ...update } = u;
    const key = JSON.stringify([u.type, u.owner, u.at, u.progress, u.attempt, u.message]);
    const group = submitted.get(key);
    if (group) group.jobIds.push(jobId);
    else submitted.set(key, { update, jobIds: [jobId] });
  }
  for (const { update, jobIds } of submitted.values()) {
    if (jobIds.length === 1) {
      publishUpdate(nc, n, { jobId: jobIds[0]!, ...update });
      continue;
    }
    for (let i = 0; i < jobIds.length; i += MAX_SUBMITTED_IDS) {
      publishDroppable(nc, n.submittedSubject(update.type), { update, jobIds: jobIds.slice(i, i + MAX_SUBMITTED_IDS) });
    }
  }
}

/** The updates a message on an update subject carries: its one, or a submissions message's; none if malformed. */
export function updatesIn(subject: string, data: Uint8Array): JobUpdateMessage[] {
  if (subject.endsWith(`.${SUBMITTED_TOKEN}`)) {
    const m = parseMessage(jobsSubmittedSchema, data);
    return m ? m.jobIds.map((jobId) => ({ jobId, ...m.update }) as JobUpdateMessage) : [];
  }
  const u = parseMessage(jobUpdateSchema, data);
  return u ? [u as JobUpdateMessage] : [];
}
