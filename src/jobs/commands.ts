/**
 * Cancelling and rescheduling jobs (replaying them: replay.ts).
 */
import { preparing, type Sql } from '../db/client.js';
import { getJob } from '../db/jobs.js';
import { markCancelled, requestCancel, rescheduleWaitingJob } from '../db/transitions.js';
import type { JobRow } from '../db/schema.js';
import { NotFoundError, UserErrorCode, type UserError } from '../errors.js';
import { publishUpdate, updateFromJob } from '../progress/updates.js';
import { canSee, isUuid, type JobDeps, type Viewer } from './deps.js';
import { isTerminal } from './state.js';
import { RUN_AT_OUT_OF_RANGE, scheduledAt } from './submit.js';

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
 * A waiting job moved: a QUEUED job (scheduled or not) runs at `runAt` instead, a RETRYING job's next attempt
 * is due then instead of after its backoff (absent or not in the future: now; more than MAX_RUN_AT_DAYS
 * ahead: OUT_OF_RANGE, as a submit's). One transaction (db/transitions.ts `rescheduleWaitingJob`): the job's
 * time, its history row (`rescheduled to …`), its outbox entries moved or a fresh copy of its message; after
 * the commit, what is due now is published and watchers get the update. Any other state: INVALID_STATE,
 * nothing written.
 */
export async function rescheduleJob(deps: JobDeps, viewer: Viewer, id: string, runAt?: Date | null): Promise<Result> {
  if (!isUuid(id)) throw new NotFoundError('job');
  const at = scheduledAt(runAt);
  if (at === 'out-of-range') {
    const job = await visibleJob(deps, viewer, id);
    return { job, userErrors: [{ code: UserErrorCode.OUT_OF_RANGE, field: ['runAt'], message: RUN_AT_OUT_OF_RANGE }] };
  }
  const r = await deps.sql.begin((raw) =>
    rescheduleWaitingJob(preparing(raw) as unknown as Sql, {
      id,
      owner: viewer.admin ? null : viewer.owner,
      runAt: at,
      message: at ? `rescheduled to ${at.toISOString()}` : 'rescheduled to now',
      subjectOf: (type) => deps.names.jobSubject(type),
    }),
  );
  if (!r) throw new NotFoundError('job');
  if ('refused' in r) return invalidState(await visibleJob(deps, viewer, id), 'rescheduled (only QUEUED and RETRYING jobs can)');
  deps.relay.publishSoon(r.entries); // those due now; the relay loop publishes the others when due
  publishUpdate(deps.nats.nc, deps.names, updateFromJob(r.job));
  return { job: r.job, userErrors: [] };
}
