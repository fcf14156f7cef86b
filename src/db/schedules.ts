/**
 * Schedules (`schedules`, migration 0014): the rows `upsertSchedule` writes, and the scheduler's statements
 * that take the due ones and move them on (jobs/schedules.ts).
 */
import type { Sql } from './client.js';
import type { CheckedNotification } from '../notifications/validate.js';

export interface ScheduleRow {
  owner: string;
  name: string;
  type: string;
  payload: unknown;
  cron: string;
  timezone: string;
  maxAttempts: number | null;
  timeoutMs: number | null;
  /** Each run's job gets `startBy` = its run time + this (migration 0017); null: none. */
  startWithinMs: number | null;
  /** Each job's notifications. */
  notify: CheckedNotification[];
  paused: boolean;
  nextRunAt: Date;
  lastRunAt: Date | null;
  lastJobId: string | null;
  runs: number;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `owner, name, type, payload, cron, timezone, max_attempts as "maxAttempts", timeout_ms as "timeoutMs",
  start_within_ms as "startWithinMs", notify, paused,
  next_run_at as "nextRunAt", last_run_at as "lastRunAt", last_job_id as "lastJobId", runs::float8 as runs,
  created_at as "createdAt", updated_at as "updatedAt"`;

/** What `upsertSchedule` writes; the rest (runs, last run) a replaced schedule keeps. */
export type ScheduleSettings = Pick<ScheduleRow, 'owner' | 'name' | 'type' | 'payload' | 'cron' | 'timezone' | 'maxAttempts' | 'timeoutMs' | 'startWithinMs' | 'notify' | 'paused' | 'nextRunAt'>;

/**
 * Creates the schedule, or replaces the settings of the owner's schedule of that name; `created` says which.
 * A new one is refused (null) when the owner has `limit` already: counted under a lock on the owner, so two
 * creates at once cannot both take the last place.
 */
export async function upsertSchedule(sql: Sql, s: ScheduleSettings, limit: number): Promise<{ row: ScheduleRow; created: boolean } | null> {
  return sql.begin(async (tx) => {
    await tx.unsafe(`select pg_advisory_xact_lock(hashtextextended('longrun.schedules:' || $1, 0))`, [s.owner]);
    const [{ n }] = (await tx.unsafe(`select count(*)::int as n from schedules where owner = $1 and name <> $2`, [s.owner, s.name])) as unknown as [{ n: number }];
    const [row] = (await tx.unsafe(
      `insert into schedules (owner, name, type, payload, cron, timezone, max_attempts, timeout_ms, paused, next_run_at, notify, start_within_ms)
       select $1, $2, $3, $4::text::jsonb, $5, $6, $7, $8, $9, $10, $13::text::jsonb, $14 where $11::int < $12::int or exists (select 1 from schedules where owner = $1 and name = $2)
       on conflict (owner, name) do update set type = excluded.type, payload = excluded.payload, cron = excluded.cron,
         timezone = excluded.timezone, max_attempts = excluded.max_attempts, timeout_ms = excluded.timeout_ms,
         start_within_ms = excluded.start_within_ms, notify = excluded.notify, paused = excluded.paused, next_run_at = excluded.next_run_at, updated_at = now()
       returning ${COLUMNS}, (xmax = 0) as created`,
      [s.owner, s.name, s.type, JSON.stringify(s.payload), s.cron, s.timezone, s.maxAttempts, s.timeoutMs, s.paused, s.nextRunAt.toISOString(), n, limit, JSON.stringify(s.notify), s.startWithinMs] as never[],
    )) as unknown as (ScheduleRow & { created: boolean })[];
    if (!row) return null;
    const { created, ...schedule } = row;
    return { row: schedule, created };
  }) as Promise<{ row: ScheduleRow; created: boolean } | null>;
}

/** Deletes the owner's schedule of that name; the row it was, or null if there was none. */
export async function deleteSchedule(sql: Sql, owner: string, name: string): Promise<ScheduleRow | null> {
  const [row] = await sql.unsafe<ScheduleRow[]>(`delete from schedules where owner = $1 and name = $2 returning ${COLUMNS}`, [owner, name]);
  return row ?? null;
}

/**
 * Pauses or resumes the owner's schedule of that name: `nextRunAt(row)` gives a resumed one its next run, read
 * with the row locked. A schedule already so is answered as it is; null if there is none.
 */
export async function setSchedulePaused(sql: Sql, owner: string, name: string, paused: boolean, nextRunAt: (row: ScheduleRow) => Date): Promise<ScheduleRow | null> {
  return sql.begin(async (tx) => {
    const [row] = (await tx.unsafe(`select ${COLUMNS} from schedules where owner = $1 and name = $2 for update`, [owner, name])) as unknown as ScheduleRow[];
    if (!row || row.paused === paused) return row ?? null;
    const [changed] = (await tx.unsafe(
      `update schedules set paused = $3, next_run_at = $4, updated_at = now() where owner = $1 and name = $2 returning ${COLUMNS}`,
      [owner, name, paused, (paused ? row.nextRunAt : nextRunAt(row)).toISOString()] as never[],
    )) as unknown as ScheduleRow[];
    return changed!;
  }) as Promise<ScheduleRow | null>;
}

/** The owner's schedules, by name. */
export function listSchedules(sql: Sql, owner: string): Promise<ScheduleRow[]> {
  return sql.unsafe<ScheduleRow[]>(`select ${COLUMNS} from schedules where owner = $1 order by name`, [owner]);
}

/**
 * Up to `limit` schedules due by PostgreSQL's clock (`now`, answered with them), oldest run time first, locked
 * for this transaction; those another scheduler has locked are skipped (it is making their jobs).
 */
export function lockDueSchedules(tx: Sql, limit: number): Promise<(ScheduleRow & { now: Date })[]> {
  return tx.unsafe<(ScheduleRow & { now: Date })[]>(
    `select ${COLUMNS}, now() as now from schedules where not paused and next_run_at <= now()
     order by next_run_at limit $1 for update skip locked`,
    [limit],
  );
}

/**
 * How long until the earliest active schedule is due, in ms by PostgreSQL's clock (0 or less: due now), or
 * null when there is none (read through `schedules_due`).
 */
export async function msUntilNextRun(sql: Sql): Promise<number | null> {
  const [row] = await sql.unsafe<{ ms: number | null }[]>(
    `select (extract(epoch from min(next_run_at) - clock_timestamp()) * 1000)::float8 as ms from schedules where not paused`,
  );
  return row?.ms ?? null;
}

/** The owner's schedule of that name, or null. */
export async function getSchedule(sql: Sql, owner: string, name: string): Promise<ScheduleRow | null> {
  const [row] = await sql.unsafe<ScheduleRow[]>(`select ${COLUMNS} from schedules where owner = $1 and name = $2`, [owner, name]);
  return row ?? null;
}

/** The owner's schedule of that name, locked for this transaction, with PostgreSQL's `now`; null if none. */
export async function lockSchedule(tx: Sql, owner: string, name: string): Promise<(ScheduleRow & { now: Date }) | null> {
  const [row] = await tx.unsafe<(ScheduleRow & { now: Date })[]>(`select ${COLUMNS}, now() as now from schedules where owner = $1 and name = $2 for update`, [owner, name]);
  return row ?? null;
}

/** A due schedule moved on: its next run time, and the job this run made (null: none, its type unknown here). */
export interface ScheduleRun {
  owner: string;
  name: string;
  ranAt: Date;
  jobId: string | null;
  nextRunAt: Date;
}

/** Moves the due schedules on (in the transaction that locked them and inserted their jobs). */
export async function markSchedulesRun(tx: Sql, runs: readonly ScheduleRun[]): Promise<void> {
  if (!runs.length) return;
  await tx.unsafe(
    `update schedules s set next_run_at = r.next_run_at, last_run_at = r.ran_at, runs = s.runs + (r.job_id is not null)::int,
       last_job_id = coalesce(r.job_id, s.last_job_id)
     from unnest($1::text[], $2::text[], $3::timestamptz[], $4::uuid[], $5::timestamptz[]) as r(owner, name, ran_at, job_id, next_run_at)
     where s.owner = r.owner and s.name = r.name`,
    [runs.map((r) => r.owner), runs.map((r) => r.name), runs.map((r) => r.ranAt.toISOString()), runs.map((r) => r.jobId), runs.map((r) => r.nextRunAt.toISOString())] as never[],
  );
}

/** Every owner's schedules counted, and how late the most overdue active one is (the scrape-time gauges). */
export interface ScheduleStats {
  active: number;
  paused: number;
  /** Seconds from the oldest `next_run_at` at or before now to now, by PostgreSQL's clock; 0 when none is due. */
  lagSeconds: number;
}

/** `ScheduleStats` in one statement. */
export async function scheduleStats(sql: Sql): Promise<ScheduleStats> {
  const [row] = await sql.unsafe<ScheduleStats[]>(
    `select count(*) filter (where not paused)::int as active, count(*) filter (where paused)::int as paused,
       coalesce(extract(epoch from now() - min(next_run_at) filter (where not paused and next_run_at <= now())), 0)::float8 as "lagSeconds"
     from schedules`,
  );
  return row!;
}
