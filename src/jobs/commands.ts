/**
 * Cancelling and replaying jobs.
 */
import { getJob } from '../db/jobs.js';
import { markCancelled, replayFailedJob, requestCancel } from '../db/transitions.js';
import type { JobRow } from '../db/schema.js';
import { NotFoundError, UserErrorCode, type UserError } from '../errors.js';
import { removeDeadLetterCopy } from '../messaging/dead-letters.js';
import { publishUpdate, updateFromJob } from '../progress/updates.js';
import { canSee, isUuid, type JobDeps, type Viewer } from './deps.js';
import { isTerminal } from './state.js';

type Result = { job: JobRow | null; userErrors: UserError[] };

async function visibleJob(deps: JobDeps, viewer: Viewer, id: string): Promise<JobRow> {
  const job = isUuid(id) ? await getJob(deps.sql, id) : null;
  if (!job || !canSee(viewer, job)) throw new NotFoundError('job');
  return job;
}

const invalidState = (job: JobRow, what: string): Result => ({
  job,
  userErrors: [{ code: UserErrorCode.INVALID_STATE, field: ['id'], message: `a ${job.state} job cannot be ${what}` }],
});

/**
 * QUEUED/RETRYING (or RUNNING under a dead worker's expired lease) → CANCELLED at once (its message is acked
 * when delivered). RUNNING: the worker is told to abort the handler (NATS message, and the flag its heartbeat
 * reads) and records CANCELLED.
 */
export async function cancelJob(deps: JobDeps, viewer: Viewer, id: string): Promise<Result> {
  let job = await visibleJob(deps, viewer, id);
  for (let i = 0; i < 3; i++) {
    if (isTerminal(job.state)) return invalidState(job, 'cancelled');
    const cancelled = await markCancelled(deps.sql, { id: job.id });
    if (cancelled) {
      publishUpdate(deps.nats.nc, deps.names, updateFromJob(cancelled));
      return { job: cancelled, userErrors: [] };
    }
    const requested = await requestCancel(deps.sql, job.id);
    if (requested) {
      try {
        deps.nats.nc.publish(deps.names.cancelSubject(job.id));
      } catch (e) {
        // Recorded: the worker's next lease renewal reads the flag. The caller's answer is the request.
        deps.log.warn({ err: e, jobId: job.id }, 'cancelJob: recorded; telling the worker over NATS failed, its lease renewal reads it');
      }
      return { job: requested, userErrors: [] };
    }
    job = await visibleJob(deps, viewer, id); // it moved meanwhile: look again
  }
  return invalidState(job, 'cancelled now');
}

/**
 * FAILED → QUEUED, a new attempt series; its copy is removed from the dead-letter stream (once NATS answers).
 * A job whose type the server no longer has is refused (UNKNOWN_JOB_TYPE). Once the replay has committed, the
 * answer is the replayed job, whatever fails after it.
 */
export async function retryJob(deps: JobDeps, viewer: Viewer, id: string): Promise<Result> {
  const job = await visibleJob(deps, viewer, id);
  if (job.state !== 'FAILED') return invalidState(job, 'retried (only FAILED jobs can)');
  if (!deps.types.has(job.type)) {
    // Removed or renamed since it ran: replayed, it would wait QUEUED for ever on a subject no worker pulls.
    const message = `a ${job.type} job cannot be retried: this server has no job type ${JSON.stringify(job.type)}`;
    return { job, userErrors: [{ code: UserErrorCode.UNKNOWN_JOB_TYPE, field: ['id'], message }] };
  }
  const replayed = await replayFailedJob(deps.sql, { id: job.id, subject: deps.names.jobSubject(job.type) });
  if (!replayed) {
    const now = await getJob(deps.sql, id);
    if (!now) throw new NotFoundError('job'); // purged by retention meanwhile
    return invalidState(now, 'retried now');
  }
  // Committed: the job is replayed, and that is the answer. What is left is tidying that the background
  // machinery finishes if it fails here: the copy's removal is noted in dead_letter_removals (the
  // dead-letter sweep's), and the outbox entry is the relay's.
  if (job.deadLetterSeq !== null) {
    await removeDeadLetterCopy(deps, job.deadLetterSeq, job.id).catch((e: unknown) =>
      deps.log.warn({ err: e, jobId: job.id }, 'retryJob: replayed; removing its dead-letter copy failed, the dead-letter sweep removes it'),
    );
  }
  deps.relay.publishSoon([replayed.outbox]);
  publishUpdate(deps.nats.nc, deps.names, updateFromJob(replayed.job));
  return { job: replayed.job, userErrors: [] };
}
