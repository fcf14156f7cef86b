/**
 * Jobs that must start by a deadline (`start_by`): one still waiting (QUEUED or RETRYING) once it has passed,
 * by PostgreSQL's clock, is FAILED with error `expired: not started by <start_by>`, not dead-lettered (its
 * message is not a poison message). The claim refuses such a job (transitions.ts CLAIM); this is its end,
 * written by the worker its message reached (workers/settle.ts) or by the API's expiry pass (jobs/expiry.ts).
 */
import type { Sql } from './client.js';
import type { JobRow } from './schema.js';
import { AS_READ_COLUMNS, asReadRow, fenceAsRead, NOT_CANCELLING, NOT_HELD, STILL_AS_READ } from './transitions.js';
import { first, transition, type ChangedJob, type Transition } from './transition.js';

/** The error of an expired job starts so (then its `startBy`, ISO 8601 in UTC as `Date.toISOString` writes it). */
export const EXPIRED_ERROR = 'expired: not started by ';

/** Whether a FAILED job ended expired (so not dead-lettered: its message, delivered later, is acked). */
export const isExpired = (job: Pick<JobRow, 'state' | 'error'>): boolean => job.state === 'FAILED' && !!job.error?.startsWith(EXPIRED_ERROR);

/** The condition of a job whose `start_by` has passed: no attempt starts (CLAIM), a waiting one expires. */
export const START_BY_PASSED = `jobs.start_by <= now()`;

const EXPIRED = `error = '${EXPIRED_ERROR}' || to_char(jobs.start_by at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        finished_at = now(), lease_until = null, next_attempt_at = null`;

const EXPIRE: Transition = {
  to: 'FAILED',
  from: ['QUEUED', 'RETRYING'],
  set: EXPIRED,
  // A cancel asked for is the waiting job's end instead (its worker, or the cancel itself, records it).
  where: `${START_BY_PASSED} and ${NOT_CANCELLING}`,
};

/**
 * A RUNNING job whose worker was lost (its lease ran out; no worker says it holds the attempt) once its
 * `start_by` has passed: no attempt starts again, so it is FAILED expired, as read (its worker, back, may have
 * written the outcome since).
 */
const EXPIRE_LOST: Transition = {
  to: 'FAILED',
  from: ['RUNNING'],
  fenced: true,
  set: EXPIRED,
  where: `${START_BY_PASSED} and ${NOT_CANCELLING} and ${NOT_HELD} and ${STILL_AS_READ}`,
  columns: AS_READ_COLUMNS,
};

/** FAILED expired, those of `ids` still waiting past their `start_by`; null for the others. */
export function expireJobs(sql: Sql, ids: readonly string[]): Promise<(ChangedJob | null)[]> {
  return transition(sql, EXPIRE, ids.map((id) => ({ id })));
}

/** FAILED expired, a RUNNING job whose worker was lost past its `start_by` (EXPIRE_LOST); null otherwise. */
export function expireLostJob(sql: Sql, job: JobRow): Promise<ChangedJob | null> {
  return first(transition(sql, EXPIRE_LOST, [asReadRow({ id: job.id, ...fenceAsRead(job) })]));
}

/** Up to `limit` waiting jobs whose `start_by` has passed, earliest first (found in the `jobs_start_by` index). */
export async function dueToExpire(sql: Sql, limit: number): Promise<string[]> {
  const rows = await sql.unsafe<{ id: string }[]>(
    `select id from jobs where start_by is not null and state in ('QUEUED', 'RETRYING') and ${START_BY_PASSED}
     order by start_by limit $1`,
    [limit],
  );
  return rows.map((r) => r.id);
}
