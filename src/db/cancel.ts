/**
 * Cancelling jobs: a waiting job (or one whose lease ran out, its worker lost) becomes CANCELLED at once; a
 * running one is flagged (`requestCancel`) and becomes CANCELLED when its worker stops it (`markCancelled`
 * with its fence).
 * Built on `transition()` (transition.ts).
 */
import type { Sql } from './client.js';
import { JOB_COLUMNS } from './jobs.js';
import type { JobRow } from './schema.js';
import { first, transition, type Transition } from './transition.js';
import { AS_READ_COLUMNS, asReadRow, fenceAsRead, NOT_HELD, STILL_AS_READ, type AsRead, type MaybeFenced } from './transitions.js';

const CANCEL = `cancel_requested = true, finished_at = now(), lease_until = null, next_attempt_at = null`;
// A worker's cancel of its own attempt: only while the attempt runs. (Its RETRYING write committed with the
// answer lost, a retry refused falls back to this cancel, which must not end a job nobody cancelled.)
const CANCEL_ATTEMPT: Transition = { to: 'CANCELLED', fenced: true, set: CANCEL, where: `state = 'RUNNING'` };
const CANCEL_WAITING: Transition = { to: 'CANCELLED', set: CANCEL, where: NOT_HELD };
const CANCEL_QUEUED: Transition = { to: 'CANCELLED', set: CANCEL, where: `state <> 'RUNNING'` };
const CANCEL_AS_READ: Transition = { to: 'CANCELLED', set: CANCEL, fenced: true, where: `${NOT_HELD} and ${STILL_AS_READ}`, columns: AS_READ_COLUMNS };

/**
 * CANCELLED. Without a fence: a job no worker holds: QUEUED, RETRYING, or RUNNING under a lease that has
 * expired (its worker died; a redelivery of its message with the cancel asked for cancels it this way, and the
 * dead-letter component with `fenceAsRead`, the job as it read it); null while a live lease holds it. With a
 * fence (and `lastSeq`): that running attempt, stopped by its worker.
 */
export function markCancelled(sql: Sql, a: (MaybeFenced | AsRead) & { id: string; lastSeq?: number }) {
  if ('readState' in a) return first(transition(sql, CANCEL_AS_READ, [asReadRow(a)]));
  return first(transition(sql, a.attempt === undefined ? CANCEL_WAITING : CANCEL_ATTEMPT, [{ ...a }]));
}

/** CANCELLED, of many QUEUED or RETRYING jobs in one statement: per id, the CANCELLED job or null. */
export function markWaitingCancelled(sql: Sql, ids: readonly string[]): Promise<(JobRow | null)[]> {
  return transition(sql, CANCEL_QUEUED, ids.map((id) => ({ id })));
}

/**
 * CANCELLED, of many RUNNING jobs under leases that ran out, each as read (`lapsedJobs`; its attempt still,
 * and still no live lease): per job, the CANCELLED job or null.
 */
export function markLapsedCancelled(sql: Sql, jobs: readonly JobRow[]): Promise<(JobRow | null)[]> {
  return transition(sql, CANCEL_AS_READ, jobs.map((job) => asReadRow({ id: job.id, ...fenceAsRead(job) })));
}

/** The RUNNING jobs among `ids` whose lease ran out (by PostgreSQL's clock): their worker died, or cannot reach PostgreSQL. */
export function lapsedJobs(sql: Sql, ids: readonly string[]): Promise<JobRow[]> {
  if (!ids.length) return Promise.resolve([]);
  return sql.unsafe<JobRow[]>(`select ${JOB_COLUMNS} from jobs where id = any($1::uuid[]) and state = 'RUNNING' and lease_until < now()`, [ids as never]);
}

/**
 * Asks the workers running these jobs to stop (no state change until they do): the RUNNING ones among them,
 * flagged. Rows are locked in id order, as `transition()` locks them, so a worker's batch cannot deadlock it.
 */
export async function requestCancel(sql: Sql, ids: readonly string[]): Promise<JobRow[]> {
  if (!ids.length) return [];
  return sql.unsafe<JobRow[]>(
    `update jobs set cancel_requested = true, updated_at = now()
     from (select id as running from jobs where id = any($1::uuid[]) and state = 'RUNNING' order by id for update) r
     where jobs.id = r.running and jobs.state = 'RUNNING'
     returning ${JOB_COLUMNS}`,
    [ids as never],
  );
}
