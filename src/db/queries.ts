/**
 * Read queries for the API: pages of jobs, newest first, by keyset on (created_at, id) or
 * (dead_lettered_at, id), and stats. Keyset positions carry the timestamp with microseconds (as text),
 * because a JavaScript Date would round it to the millisecond and a whole batch (`submitJobs`) shares one
 * created_at. Counts and rates per job type are in type-stats.ts.
 */
import type { Sql } from './client.js';
import { NOT_DONE_WITH, type JobEventRow, type JobRow } from './schema.js';
import { EVENT_COLUMNS, JOB_COLUMNS } from './jobs.js';
import type { JobState } from '../jobs/state.js';

/** Owner filter: null = every owner (admin). */
export type Owner = string | null;

/** A keyset position: `at` is an ISO 8601 timestamp with microseconds (sent as text: postgres.js would round a timestamptz parameter to the millisecond). */
export interface Keyset {
  at: string;
  id: string;
}

/** A job row with its keyset position. */
export type PagedJob = JobRow & { keyAt: string };

/** Which jobs: every field narrows; null = no filter. `owner` null = every owner (admin). */
export interface JobListFilter {
  owner: string | null;
  /** Job ids, lower-case. */
  ids: readonly string[] | null;
  states: readonly JobState[] | null;
  types: readonly string[] | null;
  /** Inclusive. */
  createdAfter: Date | null;
  /** Exclusive. */
  createdBefore: Date | null;
}

/** Which rows of the filtered, newest-first list: strictly between the bounds, from one end. */
export interface JobListWindow {
  /** Rows strictly older than this position. */
  olderThan: Keyset | null;
  /** Rows strictly newer than this position. */
  newerThan: Keyset | null;
  /** Take from the newest end (`newest`) or the oldest end (`oldest`, returned oldest first). */
  from: 'newest' | 'oldest';
  limit: number;
}

/** The keyset timestamp of a row as ISO 8601 text with microseconds. */
const keyAt = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "keyAt"`;

/** The WHERE clause of a filter, with its parameters appended to `params`. Only present conditions appear. */
function filterClause(f: JobListFilter, params: unknown[]): string {
  const where: string[] = [];
  const p = (v: unknown) => `$${params.push(v)}`;
  if (f.owner !== null) where.push(`owner = ${p(f.owner)}`);
  if (f.ids) where.push(`id = any(${p(f.ids)}::uuid[])`);
  if (f.states) where.push(`state = any(${p(f.states)}::job_state[])`);
  if (f.types) where.push(`type = any(${p(f.types)}::text[])`);
  if (f.createdAfter) where.push(`created_at >= ${p(f.createdAfter)}::timestamptz`);
  if (f.createdBefore) where.push(`created_at < ${p(f.createdBefore)}::timestamptz`);
  return where.length ? where.join(' and ') : 'true';
}

const keyset = (op: '<' | '>' | '<=' | '>=', k: Keyset, params: unknown[]) =>
  `(created_at, id) ${op} ($${params.push(k.at)}::text::timestamptz, $${params.push(k.id)}::uuid)`;

/** One window of the list, at most `limit` rows. */
export async function listJobs(sql: Sql, f: JobListFilter, w: JobListWindow): Promise<PagedJob[]> {
  const params: unknown[] = [];
  let where = filterClause(f, params);
  if (w.olderThan) where += ` and ${keyset('<', w.olderThan, params)}`;
  if (w.newerThan) where += ` and ${keyset('>', w.newerThan, params)}`;
  // NULLS LAST/FIRST as in the indexes (drizzle's .desc() is DESC NULLS LAST): a plain `desc` would not match
  // them, and PostgreSQL would sort the whole table instead of reading the index.
  const order = w.from === 'newest' ? 'created_at desc nulls last, id desc nulls last' : 'created_at asc nulls first, id asc nulls first';
  return sql.unsafe<PagedJob[]>(
    `select ${JOB_COLUMNS}, ${keyAt('created_at')} from jobs where ${where} order by ${order} limit $${params.push(w.limit)}`,
    params as never[],
  );
}

/** How many jobs match the filter. */
export async function countJobs(sql: Sql, f: JobListFilter): Promise<number> {
  const params: unknown[] = [];
  const [row] = await sql.unsafe<{ n: number }[]>(`select count(*)::int as n from jobs where ${filterClause(f, params)}`, params as never[]);
  return row?.n ?? 0;
}

/** Whether a matching job lies at or beyond a position: `older` = at or older than it, `newer` = at or newer. */
export async function jobExistsBeyond(sql: Sql, f: JobListFilter, k: Keyset, side: 'older' | 'newer'): Promise<boolean> {
  const params: unknown[] = [];
  const where = `${filterClause(f, params)} and ${keyset(side === 'older' ? '<=' : '>=', k, params)}`;
  // Ordered from the position outwards, so the probe reads the index next to it, not the table.
  const order = side === 'older' ? 'created_at desc nulls last, id desc nulls last' : 'created_at asc nulls first, id asc nulls first';
  return existsOrdered(sql, where, order, params);
}

/** Whether a job matches `where`; `order` makes the probe read the index next to a keyset position. */
async function existsOrdered(sql: Sql, where: string, order: string, params: unknown[]): Promise<boolean> {
  const [row] = await sql.unsafe<{ found: boolean }[]>(
    `select exists(select 1 from jobs where ${where} order by ${order} limit 1) as found`,
    params as never[],
  );
  return row?.found ?? false;
}

export interface DeadLetterPage {
  owner: Owner;
  type: string | null;
  first: number;
  /** Keyset position: rows strictly after it (newest first). */
  after: Keyset | null;
}

/** The dead letters' WHERE clause (owner and type), its parameters appended to `params`. */
const deadLetterWhere = (p: { owner: Owner; type: string | null }, params: unknown[]) =>
  `dead_lettered_at is not null and ($${params.push(p.owner)}::text is null or owner = $${params.length})
    and ($${params.push(p.type)}::text is null or type = $${params.length})`;

const deadLetterKeyset = (op: '<' | '>=', k: Keyset, params: unknown[]) =>
  `(dead_lettered_at, id) ${op} ($${params.push(k.at)}::text::timestamptz, $${params.push(k.id)}::uuid)`;

/** One page of dead letters, newest first: at most `first + 1` rows (the extra one says there are more). */
export async function listDeadLetters(sql: Sql, p: DeadLetterPage): Promise<PagedJob[]> {
  const params: unknown[] = [];
  let where = deadLetterWhere(p, params);
  if (p.after) where += ` and ${deadLetterKeyset('<', p.after, params)}`;
  return sql.unsafe<PagedJob[]>(
    `select ${JOB_COLUMNS}, ${keyAt('dead_lettered_at')} from jobs where ${where}
     order by dead_lettered_at desc nulls last, id desc nulls last limit $${params.push(p.first + 1)}`,
    params as never[],
  );
}

/** How many dead letters match. */
export async function countDeadLetters(sql: Sql, p: { owner: Owner; type: string | null }): Promise<number> {
  const params: unknown[] = [];
  const [row] = await sql.unsafe<{ n: number }[]>(`select count(*)::int as n from jobs where ${deadLetterWhere(p, params)}`, params as never[]);
  return row?.n ?? 0;
}

/** Whether a matching dead letter lies at or newer than a position (before a page that starts after it). */
export async function deadLetterExistsAtOrNewer(sql: Sql, p: { owner: Owner; type: string | null }, k: Keyset): Promise<boolean> {
  const params: unknown[] = [];
  const where = `${deadLetterWhere(p, params)} and ${deadLetterKeyset('>=', k, params)}`;
  return existsOrdered(sql, where, 'dead_lettered_at asc nulls first, id asc nulls first', params);
}

/** One row of a job's history as the API shows it. */
export interface EventRow {
  jobId: string;
  seq: number;
  kind: string;
  state: JobRow['state'];
  progress: number;
  message: string | null;
  attempt: number;
  error: string | null;
  at: Date;
}

const HISTORY_COLUMNS = `job_id as "jobId", seq, kind, state, progress, message, attempt, error, at`;

/** A page of one job's history: its first `limit` rows after `afterSeq`, or its last `limit` (`newest`). */
export interface EventsPageRead {
  jobId: string;
  /** The job's seq as the caller read it: rows after it (changes since that read) are left out. */
  untilSeq: number;
  afterSeq: number;
  limit: number;
  newest: boolean;
}

/**
 * Pages of several jobs' histories in one statement (the `Job.events` of every job in a response), each a
 * lateral index range scan of `job_history` that stops at its limit (never a job's whole history), rows in
 * seq order, none after the job's seq as read (`untilSeq`); `read` is the index of the page a row belongs to.
 */
export async function eventPagesOf(sql: Sql, reads: readonly EventsPageRead[]): Promise<(EventRow & { read: number })[]> {
  const page = (order: string, newest: string) =>
    `(select ${HISTORY_COLUMNS} from job_history where job_id = x.id and seq > x.after_seq and seq <= x.until_seq and ${newest} order by seq ${order} limit x.n)`;
  // `newest` as 0/1: postgres.js sends a boolean array as one boolean.
  return sql.unsafe<(EventRow & { read: number })[]>(
    `select x.i::int - 1 as read, h.* from unnest($1::uuid[], $2::int[], $3::int[], $4::int[], $5::int[]) with ordinality as x(id, after_seq, n, newest, until_seq, i)
     cross join lateral (${page('asc', 'x.newest = 0')} union all ${page('desc', 'x.newest = 1')}) h
     order by x.i, h.seq`,
    [reads.map((r) => r.jobId), reads.map((r) => r.afterSeq), reads.map((r) => r.limit), reads.map((r) => (r.newest ? 1 : 0)), reads.map((r) => r.untilSeq)] as never[],
  );
}

/**
 * The attempt errors of jobs `$1` (their history's `error` rows, in seq order), through the partial index
 * `job_events_errors` (migration 0009): a long job's thousands of progress rows are not read.
 */
export const ATTEMPT_ERRORS = `select ${HISTORY_COLUMNS} from job_history where job_id = any($1::uuid[]) and kind = 'error' order by job_id, seq`;

/** The attempt errors of several jobs at once. */
export async function attemptErrorsOf(sql: Sql, jobIds: readonly string[]): Promise<EventRow[]> {
  return sql.unsafe<EventRow[]>(ATTEMPT_ERRORS, [jobIds as never]);
}

/** The idempotency keys of several jobs at once (not in JOB_COLUMNS: see there), of those that have one. */
export async function idempotencyKeysOf(sql: Sql, jobIds: readonly string[]): Promise<{ id: string; idempotencyKey: string }[]> {
  return sql.unsafe<{ id: string; idempotencyKey: string }[]>(
    `select id, idempotency_key as "idempotencyKey" from jobs where id = any($1::uuid[]) and idempotency_key is not null`,
    [jobIds as never],
  );
}

/** The `startBy` of several jobs at once (not in JOB_COLUMNS: see there), of those that have one. */
export async function startByOf(sql: Sql, jobIds: readonly string[]): Promise<{ id: string; startBy: Date }[]> {
  return sql.unsafe<{ id: string; startBy: Date }[]>(
    `select id, start_by as "startBy" from jobs where id = any($1::uuid[]) and start_by is not null`,
    [jobIds as never],
  );
}

/** Which jobs' history `jobUpdates(since)` replays: every field narrows; null = no filter. */
export interface ChangedFilter {
  owner: Owner;
  types: readonly string[] | null;
  ids: readonly string[] | null;
}

/** A job `changedJobsSince` found: its type, and when it last changed. */
export interface ChangedJob {
  id: string;
  type: string;
  changedAt: Date;
}

/**
 * The jobs with a history row at or after `since` (at most `limit`), with their types and when they last
 * changed (`changedAt`: `updated_at`, or `finished_at` for a finished one). Found by the jobs
 * indexes, not by `job_events.at` (no index: one would cost every change of every job): a job's `updated_at`
 * is at or after its last history row's `at` (the transition that writes the row sets both from one `now()`; a
 * progress milestone's `at` is its report's, at most that `now()`),
 * so one not done with is in `jobs_state_updated` with `updated_at >= since`, and a finished one in
 * `jobs_finished` with `finished_at >= since` (its last row is its terminal transition, at `finished_at`).
 * A job can be found without a row in range (a cancel request moves `updated_at` only): a superset.
 * Plans at 100k jobs (bench/job-updates-since.explain.ts): Index Scan on jobs_state_updated + Bitmap Index
 * Scan on jobs_finished, < 1 ms for the last 10 minutes.
 */
export async function changedJobsSince(sql: Sql, since: Date, f: ChangedFilter, limit: number): Promise<ChangedJob[]> {
  // `since` as a timestamptz parameter (a Date: milliseconds, as `at` is sent), not text cast in SQL: the
  // planner estimates a parameter's range from the statistics and reads jobs_finished; a cast of text it
  // does not fold, guesses a third of the table and scans it.
  const params: unknown[] = [since];
  const where: string[] = [];
  if (f.owner !== null) where.push(`owner = $${params.push(f.owner)}`);
  if (f.types) where.push(`type = any($${params.push(f.types)}::text[])`);
  if (f.ids) where.push(`id = any($${params.push(f.ids)}::uuid[])`);
  const and = where.map((w) => ` and ${w}`).join('');
  // Each side stops at `limit` too: past the bound neither reads more than that (a FAILED job is on both).
  const n = `$${params.push(limit)}`;
  return sql.unsafe<ChangedJob[]>(
    `(select id, type, updated_at as "changedAt" from jobs
        where ${NOT_DONE_WITH} and updated_at >= $1::timestamptz${and} limit ${n})
     union
     (select id, type, finished_at as "changedAt" from jobs
        where finished_at >= $1::timestamptz and state in ('SUCCEEDED', 'CANCELLED')${and} limit ${n})
     limit ${n}`,
    params as never[],
  );
}

/**
 * These jobs' history rows at or after `since` (into one of `states`, when given), in `at` order (then job,
 * then seq), at most `limit`; read by the history's primary key (job_id, seq) per job.
 */
export async function historySince(
  sql: Sql,
  ids: readonly string[],
  since: Date,
  states: readonly JobState[] | null,
  limit: number,
): Promise<JobEventRow[]> {
  const params: unknown[] = [ids, since];
  const state = states ? ` and state = any($${params.push(states)}::job_state[])` : '';
  return sql.unsafe<JobEventRow[]>(
    `select ${EVENT_COLUMNS} from job_history
     where job_id = any($1::uuid[]) and at >= $2::timestamptz${state}
     order by at, job_id, seq limit $${params.push(limit)}`,
    params as never[],
  );
}
