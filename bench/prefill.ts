/**
 * `--prefill N`: N finished jobs in the bench database before the first part, as a running service keeps
 * them for `JOB_RETENTION_DAYS` (30): the parts then run against a `jobs` table (and `job_events`) of that
 * size instead of an empty one.
 *
 * The rows are what the service's own statements leave (db/transition.ts): submitted (seq 1, QUEUED: not
 * stored, the `job_history` view derives it), claimed once (seq 2, RUNNING, attempts 1, `seq_reserved` 1002)
 * and finished by its worker (seq 3, `seq_reserved` 3): SUCCEEDED (94 %), FAILED by a permanent error (4 %,
 * its history row of kind 'error'; not dead-lettered: the bench has no dead-letter copies) or CANCELLED
 * while running (2 %). Ids are version 7 (src/jobs/job-id.ts): the first 48 bits are `created_at` in ms, so
 * the history sits in the primary key in submit order, before the bench's jobs. `created_at` spreads over the
 * 29.5 days before the bench started (up to 10 minutes before), so the retention pass deletes none of them
 * during the run. No outbox entries:
 * a finished job's are purged in a running service.
 *
 * Their type, HISTORY_TYPE, is no registered type: the parts count their own jobs by type (verify.ts), and
 * `resetJobs` keeps these.
 */
import type postgres from 'postgres';

export const HISTORY_TYPE = 'bench.history';

/** Rows per statement: one chunk's jobs and their history rows are one insert (one transaction). */
const CHUNK = 100_000;
const DAY_MS = 24 * 3600 * 1000;
const MINUTE_MS = 60 * 1000;
const STARTED_MS = Date.now();
/**
 * Every job a part submits is created after this, every history job 5 minutes or more before it (the history
 * ends 10 minutes before the bench started, so queueStats' "finished in the last minute" counts none of it).
 * The bench's own reads of a part's jobs (verify.ts) take only jobs created since: by `jobs_created`, not a
 * scan of the whole table (`type` has no index), which on a million rows takes a core for a tenth of a second
 * per poll.
 */
export const NEWER_THAN_HISTORY = new Date(STARTED_MS - 5 * MINUTE_MS);

/**
 * One chunk, rows `$1..$2` of `$3`: row i is created at `$4 + i * $5 / $3` (ms), waited 5–500 ms for its
 * claim and ran 10 ms–10 s. `r` picks the outcome.
 */
const INSERT_CHUNK = `
  with g as (
    select i, r, created_at, created_at + (5 + random() * 495) * interval '1 millisecond' as started_at,
      overlay(uuid_send(gen_random_uuid()) placing substring(int8send(ms) from 3) from 1 for 6) as b
    from (select i, random() as r, ($4::bigint + (i::float8 * $5 / $3)::bigint) as ms from generate_series($1::int, $2::int) as i) s,
      lateral (select to_timestamp(ms / 1000.0) as created_at) c
  ), k as (
    select i, created_at, started_at, started_at + (10 + random() * 9990) * interval '1 millisecond' as finished_at,
      encode(set_byte(b, 6, (get_byte(b, 6) & 15) | 112), 'hex')::uuid as id,
      (case when r < 0.94 then 'SUCCEEDED' when r < 0.98 then 'FAILED' else 'CANCELLED' end)::job_state as state
    from g
  ), j as (
    insert into jobs (id, owner, type, state, payload, progress, attempts, max_attempts, timeout_ms, result, error,
      seq, seq_reserved, series, cancel_requested, claim_token, msg_seq, created_at, updated_at, started_at, finished_at)
    select id, 'anonymous', '${HISTORY_TYPE}', state, jsonb_build_object('i', i), case when state = 'SUCCEEDED' then 100 else 0 end,
      1, 3, 60000, case when state = 'SUCCEEDED' then '{"ok":true}'::jsonb end,
      case when state = 'FAILED' then 'bench history: a permanent failure' end,
      3, 3, 1, state = 'CANCELLED', gen_random_uuid(), i + 1, created_at, finished_at, started_at, finished_at
    from k order by id
    returning id, state, progress, result, error, started_at, finished_at
  )
  insert into job_events (job_id, seq, kind, state, progress, message, attempt, result, error, at)
  select id, 2, 'state', 'RUNNING', 0, null, 1, null, null, started_at from j
  union all
  select id, 3, case when state = 'FAILED' then 'error' else 'state' end, state, progress, error, 1, result, error, finished_at from j`;

/** Inserts `n` finished jobs of HISTORY_TYPE with their history, then VACUUM (ANALYZE)s the tables. */
export async function prefillHistory(sql: postgres.Sql, n: number, log: (msg: string) => void): Promise<void> {
  const t0 = Date.now();
  const fromMs = STARTED_MS - 29.5 * DAY_MS;
  const spanMs = STARTED_MS - 10 * MINUTE_MS - fromMs;
  for (let first = 0; first < n; first += CHUNK) {
    const last = Math.min(first + CHUNK, n) - 1;
    await sql.unsafe(INSERT_CHUNK, [first, last, n, fromMs, spanMs] as never[]);
    log(`prefill: ${last + 1} of ${n} finished jobs (${Math.round((Date.now() - t0) / 1000)} s)`);
  }
  // Statistics and visibility map of a table that has been there a while: the first part does not pay for
  // the hint bits of a million fresh rows, and the planner knows the table's size.
  await vacuumJobTables(sql);
  // And clean pages: the prefill's gigabyte of WAL would otherwise start a checkpoint that writes them out,
  // with the full-page images it brings, during the first parts; a service wrote its old jobs' pages long ago.
  await sql`checkpoint`.catch((e: unknown) => log(`prefill: no CHECKPOINT (${e instanceof Error ? e.message : String(e)})`));
  log(`prefill: done in ${Math.round((Date.now() - t0) / 1000)} s`);
}

/** VACUUM (ANALYZE) of the three tables a part writes (autovacuum may be off: dead rows would pile up). */
export async function vacuumJobTables(sql: postgres.Sql): Promise<void> {
  await sql`vacuum (analyze) jobs, job_events, outbox`;
}
