/**
 * Jobs that must start by a deadline (`start_by`): one still waiting (QUEUED or RETRYING) once it has passed,
 * by PostgreSQL's clock, is FAILED with error `expired: not started by <start_by>`, not dead-lettered (its
 * message is not a poison message). The claim refuses such a job (transitions.ts CLAIM); this is its end,
 * written by the worker its message reached (workers/settle.ts) or by the API's expiry pass (jobs/expiry.ts).
 */
import type { Sql } from './client.js';
import type { JobRow } from './schema.js';
import { NOT_CANCELLING } from './transitions.js';
import { transition, type ChangedJob, type Transition } from './transition.js';

/** The error of an expired job starts so (then its `startBy`, ISO 8601 in UTC as `Date.toISOString` writes it). */
export const EXPIRED_ERROR = 'expired: not started by ';

/** Whether a FAILED job ended expired (so not dead-lettered: its message, delivered later, is acked). */
export const isExpired = (job: Pick<JobRow, 'state' | 'error'>): boolean => job.state === 'FAILED' && !!job.error?.startsWith(EXPIRED_ERROR);

/** The condition of a job whose `start_by` has passed: no attempt starts (CLAIM), a waiting one expires. */
export const START_BY_PASSED = `jobs.start_by <= now()`;

const EXPIRE: Transition = {
  to: 'FAILED',
  from: ['QUEUED', 'RETRYING'],
  set: `error = '${EXPIRED_ERROR}' || to_char(jobs.start_by at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        finished_at = now(), lease_until = null, next_attempt_at = null`,
  // A cancel asked for is the waiting job's end instead (its worker, or the cancel itself, records it).
  where: `${START_BY_PASSED} and ${NOT_CANCELLING}`,
};

/** FAILED expired, those of `ids` still waiting past their `start_by`; null for the others. */
export function expireJobs(sql: Sql, ids: readonly string[]): Promise<(ChangedJob | null)[]> {
  return transition(sql, EXPIRE, ids.map((id) => ({ id })));
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
