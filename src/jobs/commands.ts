/**
 * Cancelling jobs (one, or many by ids or a filter) and rescheduling them (replaying them: replay.ts).
 */
import { preparing, type Sql } from '../db/client.js';
import { activeJobsLeft, activeJobsMatching, getJob, getJobs, getJobStates, type ActiveJobFilter } from '../db/jobs.js';
import { databaseNow } from '../db/client.js';
import { lapsedJobs, markLapsedCancelled, markWaitingCancelled, requestCancel } from '../db/cancel.js';
import { heldByWorkers } from '../messaging/held.js';
import { rescheduleWaitingJob } from '../db/reschedule.js';
import type { JobRow } from '../db/schema.js';
import { NotFoundError, UserErrorCode, type UserError } from '../errors.js';
import { publishUpdate, updateFromJob } from '../progress/updates.js';
import { canSee, isUuid, type JobDeps, type Viewer } from './deps.js';
import { checkYearOne, typesFilter } from './queries.js';
import type { SkippedJob } from './replay.js';
import { isTerminal, JobState } from './state.js';
import { RUN_AT_OUT_OF_RANGE, scheduledAt } from './submit-check.js';

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

/** What a cancel did to a job: CANCELLED now, its worker asked to stop it (RUNNING), or nothing (finished). */
type Cancelled = { job: JobRow; outcome: 'cancelled' | 'requested' | 'finished' };

/**
 * The one cancel that `cancelJob` and `cancelJobs` share, of jobs the caller may see. QUEUED/RETRYING (or
 * RUNNING under a dead worker's expired lease: no worker answers, within 1 s, that it holds the attempt) →
 * CANCELLED at once, one statement for the waiting ones and one for those (their messages are acked when
 * delivered). RUNNING: the workers are told to abort the handlers (a NATS message each, and the
 * flag their lease renewals read) and record CANCELLED. A job that moved between the two (a claim, a hand-back)
 * is read again and tried again, three rounds in all. Per id: what was done, or nothing for a job gone
 * (deleted meanwhile) or still moving after three rounds.
 */
async function cancel(deps: JobDeps, ids: readonly string[]): Promise<Map<string, Cancelled>> {
  const done = new Map<string, Cancelled>();
  let pending = [...ids];
  for (let round = 0; round < 3 && pending.length; round++) {
    const cancelled = await markWaitingCancelled(deps.sql, pending);
    cancelled.forEach((job) => job && done.set(job.id, { job, outcome: 'cancelled' }));
    // A lease that ran out: its worker died, or is cut off from PostgreSQL (which it cannot renew the lease
    // through) and runs on, to write its outcome once PostgreSQL answers it again. Asked first, as the
    // dead-letter sweep does: one that still holds the attempt is told to stop it, below.
    const lapsed = await lapsedJobs(deps.sql, pending.filter((id) => !done.has(id)));
    const held = await heldByWorkers(deps, lapsed);
    if (held.size) deps.log.info({ jobs: [...held] }, 'cancel: lease ran out, but a worker still holds the attempt (cut off from PostgreSQL?); asking it to stop');
    const lost = await markLapsedCancelled(deps.sql, lapsed.filter((job) => !held.has(job.id)));
    lost.forEach((job) => job && done.set(job.id, { job, outcome: 'cancelled' }));
    for (const job of await requestCancel(deps.sql, pending.filter((id) => !done.has(id)))) {
      done.set(job.id, { job, outcome: 'requested' });
      try {
        deps.nats.nc.publish(deps.names.cancelSubject(job.id));
      } catch (e) {
        // Recorded: the worker's next lease renewal reads the flag. The caller's answer is the request.
        deps.log.warn({ err: e, jobId: job.id }, 'cancel: recorded; telling the worker over NATS failed, its lease renewal reads it');
      }
    }
    const left = pending.filter((id) => !done.has(id));
    pending = [];
    if (!left.length) break;
    for (const job of await getJobs(deps.sql, left)) {
      if (isTerminal(job.state)) done.set(job.id, { job, outcome: 'finished' });
      else pending.push(job.id); // it moved meanwhile: again
    }
  }
  for (const { job, outcome } of done.values()) if (outcome === 'cancelled') publishUpdate(deps.nats.nc, deps.names, updateFromJob(job));
  return done;
}

/** Cancels the job (see `cancel`): the job after it, or INVALID_STATE for a finished one. */
export async function cancelJob(deps: JobDeps, viewer: Viewer, id: string): Promise<Result> {
  const job = await visibleJob(deps, viewer, id);
  if (isTerminal(job.state)) return invalidState(job, 'cancelled');
  const r = (await cancel(deps, [job.id])).get(job.id);
  if (!r) return invalidState(await visibleJob(deps, viewer, id), 'cancelled now');
  return r.outcome === 'finished' ? invalidState(r.job, 'cancelled') : { job: r.job, userErrors: [] };
}

/** Most jobs one `cancelJobs` call cancels (and most ids it takes). */
export const MAX_CANCEL_BATCH = 1000;
/** The states a `cancelJobs` filter may name, and its default. */
const CANCELLABLE_STATES: readonly JobState[] = [JobState.QUEUED, JobState.RETRYING, JobState.RUNNING];

/** `cancelJobs` input (schema: CancelJobsInput). */
export interface CancelJobsInput {
  ids?: readonly string[] | null;
  types?: readonly string[] | null;
  states?: readonly JobState[] | null;
  submittedBefore?: Date | null;
  limit?: number | null;
}

export interface CancelJobsResult {
  cancelled: number;
  cancelRequested: number;
  jobs: JobRow[];
  hasMore: boolean;
  submittedBefore: Date | null;
  skipped: SkippedJob[];
  userErrors: UserError[];
}

/** Why the input is refused (every problem found), before anything is read. */
function cancelInputErrors(input: CancelJobsInput): UserError[] {
  const errors: UserError[] = [];
  const refuse = (code: UserErrorCode, field: string[], message: string) => errors.push({ code, field: ['input', ...field], message });
  const filter = (['types', 'states', 'submittedBefore', 'limit'] as const).filter((k) => input[k] != null);
  if (input.ids != null && filter.length) {
    refuse(UserErrorCode.CONFLICTING_INPUT, ['ids'], `give ids or a filter, not both (ids with ${filter.join(', ')})`);
  }
  if (input.ids != null && (input.ids.length === 0 || input.ids.length > MAX_CANCEL_BATCH)) {
    refuse(UserErrorCode.OUT_OF_RANGE, ['ids'], `give 1..${MAX_CANCEL_BATCH} ids (${input.ids.length} given)`);
  }
  if (input.types?.length === 0) refuse(UserErrorCode.OUT_OF_RANGE, ['types'], 'name at least one type, or omit types for all');
  if (input.states?.length === 0) refuse(UserErrorCode.OUT_OF_RANGE, ['states'], 'name at least one state, or omit states for QUEUED, RETRYING and RUNNING');
  input.states?.forEach((state, i) => {
    if (!CANCELLABLE_STATES.includes(state)) refuse(UserErrorCode.OUT_OF_RANGE, ['states', String(i)], `a ${state} job cannot be cancelled (only QUEUED, RETRYING and RUNNING jobs can)`);
  });
  if (input.limit != null && (input.limit < 1 || input.limit > MAX_CANCEL_BATCH)) {
    refuse(UserErrorCode.OUT_OF_RANGE, ['limit'], `must be 1..${MAX_CANCEL_BATCH}`);
  }
  return errors;
}

/**
 * `cancelJobs`: cancels the viewer's jobs (an admin's: anyone's) named by `ids`, or up to `limit` of those
 * not finished that match the filter (those submitted first first), each as `cancelJob` cancels one. By ids,
 * one that cannot be cancelled (not found, finished) is `skipped` and the others go ahead; bad input cancels
 * nothing. A filter's page ends before the server's time at the call unless `submittedBefore` is given (and
 * answered), so paging with it does not chase jobs submitted since.
 */
export async function cancelJobs(deps: JobDeps, viewer: Viewer, input: CancelJobsInput): Promise<CancelJobsResult> {
  checkYearOne('input.submittedBefore', input.submittedBefore ?? null);
  const none = { cancelled: 0, cancelRequested: 0, jobs: [], hasMore: false, submittedBefore: null, skipped: [] };
  const userErrors = cancelInputErrors(input);
  if (userErrors.length) return { ...none, userErrors };
  const owner = viewer.admin ? null : viewer.owner;
  const skipped: SkippedJob[] = [];
  let ids: string[];
  let filter: ActiveJobFilter | null = null;
  if (input.ids) {
    const visible = new Map((await getJobStates(deps.sql, input.ids.filter(isUuid))).filter((j) => canSee(viewer, j)).map((j) => [j.id, j]));
    const seen = new Set<string>();
    ids = [];
    for (const given of input.ids) {
      const job = isUuid(given) ? visible.get(given.toLowerCase()) : undefined;
      if (job && seen.has(job.id)) continue; // a repeat counts once
      if (!job) skipped.push({ id: given, code: 'NOT_FOUND', message: 'job not found' });
      else if (isTerminal(job.state)) skipped.push({ id: given, code: UserErrorCode.INVALID_STATE, message: `a ${job.state} job cannot be cancelled` });
      else ids.push(job.id);
      if (job) seen.add(job.id);
    }
  } else {
    const now = await databaseNow(deps.sql);
    const before = input.submittedBefore && input.submittedBefore < now ? input.submittedBefore : now;
    filter = { owner, types: typesFilter(input.types), states: input.states ?? CANCELLABLE_STATES, submittedBefore: before.toISOString() };
    ids = await activeJobsMatching(deps.sql, filter, input.limit ?? MAX_CANCEL_BATCH);
  }
  const done = await cancel(deps, ids);
  const jobs: JobRow[] = [];
  for (const id of ids) {
    const r = done.get(id);
    if (r && r.outcome !== 'finished') jobs.push(r.job);
    else if (input.ids) skipped.push({ id, code: UserErrorCode.INVALID_STATE, message: r ? `it ended (${r.job.state}) while it was being cancelled` : 'it changed while it was being cancelled' });
  }
  const cancelled = jobs.filter((j) => j.state === 'CANCELLED').length;
  if (jobs.length) deps.log.info({ cancelled, cancelRequested: jobs.length - cancelled }, 'cancelJobs: cancelled jobs');
  return {
    cancelled,
    cancelRequested: jobs.length - cancelled,
    jobs,
    hasMore: filter !== null && (await activeJobsLeft(deps.sql, filter)),
    submittedBefore: filter && new Date(filter.submittedBefore),
    skipped,
    userErrors: [],
  };
}

/**
 * A waiting job moved: a QUEUED job (scheduled or not) runs at `runAt` instead, a RETRYING job's next attempt
 * is due then instead of after its backoff (absent or not in the future: now; more than MAX_RUN_AT_DAYS
 * ahead: OUT_OF_RANGE, as a submit's). One transaction (db/reschedule.ts `rescheduleWaitingJob`): the job's
 * time, its history row (`rescheduled to …`), its outbox entries moved or a fresh copy of its message; after
 * the commit, what is due now is published and watchers get the update. Any other state: INVALID_STATE,
 * nothing written; a `runAt` not before the job's `startBy`: OUT_OF_RANGE on `runAt`, nothing written.
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
  if ('startBy' in r) {
    const message = `runAt must be before the job's startBy (${r.startBy.toISOString()}): it would expire unrun`;
    return { job: await visibleJob(deps, viewer, id), userErrors: [{ code: UserErrorCode.OUT_OF_RANGE, field: ['runAt'], message }] };
  }
  deps.relay.publishSoon(r.entries); // those due now; the relay loop publishes the others when due
  publishUpdate(deps.nats.nc, deps.names, updateFromJob(r.job));
  return { job: r.job, userErrors: [] };
}
