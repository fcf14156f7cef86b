/**
 * Cancelling jobs (replaying them: replay.ts).
 */
import { getJob } from '../db/jobs.js';
import { markCancelled, requestCancel } from '../db/transitions.js';
import type { JobRow } from '../db/schema.js';
import { NotFoundError, UserErrorCode, type UserError } from '../errors.js';
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
