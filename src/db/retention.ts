/**
 * Retention: deleting finished jobs with everything that belongs to them. A job owns its history
 * (`job_events`, no foreign key), its outbox entries (no foreign key), its notification subscriptions and
 * deliveries (`on delete cascade`) and, when FAILED, a copy in the dead-letter stream (`dead_letter_seq`),
 * which the caller removes between `lockExpiredJobs` and `deleteJobs` (jobs/retention.ts).
 *
 * Only jobs with `finished_at` set are ever chosen (PostgreSQL's check: exactly the terminal states), with
 * no notification left to send, and they stay locked (`for update`) from the choice to the delete, so a
 * `retryJob` replay or a late dead-letter record waits for the purge and then finds no row, or the purge
 * skips a row it holds (`skip locked`, which also keeps several API processes off each other's batches).
 */
import type { Sql } from './client.js';
import { TERMINAL_STATES, type JobState } from '../jobs/state.js';

/** The states a purge may delete: the terminal ones. */
export type FinishedState = Extract<JobState, 'SUCCEEDED' | 'FAILED' | 'CANCELLED'>;
export const FINISHED_STATES = TERMINAL_STATES as readonly FinishedState[];

/** Per finished state, how long after `finished_at` a job may be deleted (ms); a state left out is kept. */
export type PurgeAges = Partial<Record<FinishedState, number>>;

/** A job chosen for deletion, locked by the caller's transaction. */
export interface ExpiredJob {
  id: string;
  type: string;
  state: FinishedState;
  /** Sequence of its copy in the dead-letter stream, if one is recorded. */
  deadLetterSeq: number | null;
  /** Its last recorded seq: at least as many as its history rows (seqs a crashed attempt reserved are skipped). */
  seq: number;
}

/**
 * `$1..$3`: the ages of SUCCEEDED, CANCELLED and FAILED (null = kept); a row of another state never matches.
 * The first condition bounds the scan of `jobs_finished` by the shortest age (LEAST skips nulls), so a pass
 * reads only jobs past it (those expired, and FAILED ones between the two ages), not every finished job.
 * A job with a notification still to be sent (a PENDING delivery) waits until it is SENT or FAILED: deleted,
 * it would go unsent without a trace.
 */
const EXPIRED = `finished_at < now() - least($1::float8, $2::float8, $3::float8) * interval '1 millisecond' and case state
    when 'SUCCEEDED' then finished_at < now() - $1::float8 * interval '1 millisecond'
    when 'CANCELLED' then finished_at < now() - $2::float8 * interval '1 millisecond'
    when 'FAILED' then finished_at < now() - $3::float8 * interval '1 millisecond'
    else false end
    and not exists (select 1 from notification_deliveries d where d.job_id = jobs.id and d.status = 'PENDING')`;

const ageParams = (a: PurgeAges) => [a.SUCCEEDED ?? null, a.CANCELLED ?? null, a.FAILED ?? null];

/**
 * Locks up to `limit` expired jobs, oldest first, skipping rows another transaction holds. Call it inside a
 * transaction and delete in the same one (`deleteJobs`).
 */
export async function lockExpiredJobs(tx: Sql, ages: PurgeAges, limit: number): Promise<ExpiredJob[]> {
  return tx.unsafe<ExpiredJob[]>(
    `select id, type, state, dead_letter_seq::float8 as "deadLetterSeq", seq from jobs
     where ${EXPIRED}
     order by finished_at limit $4 for update skip locked`,
    [...ageParams(ages), limit] as never[],
  );
}

/**
 * Whether an expired job is left that the caller's transaction did not take: one another transaction holds
 * (`skip locked` passed over it: a replay, another process's batch) is still expired until that one commits.
 */
export async function expiredJobsLeft(tx: Sql, ages: PurgeAges): Promise<boolean> {
  const [r] = await tx.unsafe<{ left: boolean }[]>(`select exists (select 1 from jobs where ${EXPIRED}) as left`, ageParams(ages) as never[]);
  return r!.left;
}

/**
 * Deletes finished jobs and what they own in one statement (the notification rows go by cascade); answers
 * the jobs deleted. A job that is not finished is never deleted.
 */
export async function deleteJobs(tx: Sql, ids: readonly string[]): Promise<Pick<ExpiredJob, 'id' | 'type' | 'state'>[]> {
  if (!ids.length) return [];
  return tx.unsafe(
    `with j as (
       delete from jobs where id = any($1::uuid[]) and finished_at is not null returning id, type, state
     ), e as (
       delete from job_events where job_id in (select id from j)
     ), o as (
       delete from outbox where job_id in (select id from j)
     )
     select id, type, state from j`,
    [ids as never],
  );
}

/** How many jobs of each finished state are expired (a dry run); nothing is locked. */
export async function countExpiredJobs(sql: Sql, ages: PurgeAges): Promise<Partial<Record<FinishedState, number>>> {
  const rows = await sql.unsafe<{ state: FinishedState; n: number }[]>(
    `select state, count(*)::int as n from jobs where ${EXPIRED} group by state`,
    ageParams(ages) as never[],
  );
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}
