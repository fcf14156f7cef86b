/**
 * Choosing the FAILED jobs a replay (`retryJob`, `retryJobs`) takes, locked (`for update`) in the caller's
 * transaction until its replay commits, and the replay itself (`replayFailedJobs`, a guarded transition).
 */
import type { Sql } from './client.js';
import type { JobRow } from './schema.js';
import type { JobState } from '../jobs/state.js';
import { noteStaleCopies } from './dead-letter-removals.js';
import type { OutboxEntry } from './outbox.js';
import { recordset, type RecordsetColumn } from './recordset.js';
import { transition, type Transition } from './transition.js';

/** A job a replay looked at, locked by the caller's transaction. */
export interface ReplayCandidate {
  id: string;
  owner: string;
  type: string;
  state: JobState;
  /** Its copy's sequence in the dead-letter stream, if one is recorded. */
  deadLetterSeq: number | null;
}

const CANDIDATE_COLUMNS = `id, owner, type, state, dead_letter_seq::float8 as "deadLetterSeq"`;

/**
 * The jobs with these ids, of `owner` (null: anyone's), whatever their state, locked in id order (so two
 * replays of overlapping lists cannot deadlock). A row a retention pass holds is waited for: once purged it
 * is not found.
 */
export async function lockJobsById(tx: Sql, ids: readonly string[], owner: string | null): Promise<ReplayCandidate[]> {
  if (!ids.length) return [];
  return tx.unsafe<ReplayCandidate[]>(
    `select ${CANDIDATE_COLUMNS} from jobs where id = any($1::uuid[]) and ($2::text is null or owner = $2)
     order by id for update`,
    [ids as never, owner],
  );
}

/** Which FAILED jobs a filtered replay takes. */
export interface FailedJobFilter {
  /** null: anyone's. */
  owner: string | null;
  /** Only these types (the caller passes the types it can replay). */
  types: readonly string[];
  /** `finished_at` at or after this instant (ISO), or any. */
  failedAfter: string | null;
  /** `finished_at` before this instant (ISO). */
  failedBefore: string;
  onlyDeadLettered: boolean;
}

/** The FAILED jobs a filter matches ($1..$5), read through `jobs_state_updated`. */
const MATCHING_FAILED = `state = 'FAILED' and type = any($1::text[]) and ($2::text is null or owner = $2)
       and ($3::timestamptz is null or finished_at >= $3) and finished_at < $4::timestamptz
       and ($5::boolean is false or dead_lettered_at is not null)`;

const filterParams = (f: FailedJobFilter) => [f.types as never, f.owner, f.failedAfter, f.failedBefore, f.onlyDeadLettered];

/**
 * Up to `limit` FAILED jobs that match, those that failed first first (then by id), locked; rows another
 * transaction holds are skipped (a concurrent replay's, a retention pass's, the dead-letter recorder's), and
 * `failedJobsLeft` tells whether any are left.
 */
export async function lockFailedJobs(tx: Sql, f: FailedJobFilter, limit: number): Promise<ReplayCandidate[]> {
  return tx.unsafe<ReplayCandidate[]>(
    `select ${CANDIDATE_COLUMNS} from jobs where ${MATCHING_FAILED}
     order by finished_at, id limit $6 for update skip locked`,
    [...filterParams(f), limit],
  );
}

/**
 * Whether a FAILED job that matches is left, as this transaction sees it (after its own replay, its jobs are
 * QUEUED): one another transaction held, which `lockFailedJobs` skipped, included. Such a job may still be
 * FAILED once that transaction ends (the recorder's update, a retention pass that keeps it, a replay by ids
 * that was refused), so it is not done with; one a concurrent replay or purge took stops matching then.
 */
export async function failedJobsLeft(tx: Sql, f: FailedJobFilter): Promise<boolean> {
  const [row] = await tx.unsafe<{ left: boolean }[]>(`select exists(select 1 from jobs where ${MATCHING_FAILED}) as left`, filterParams(f));
  return row!.left;
}

const REPLAY: Transition = {
  to: 'QUEUED',
  where: `state = 'FAILED'`,
  columns: { timeout_ms: 'int' },
  // run_at cleared: a replay runs at once (its entry has no not_before), whatever its first series' runAt was;
  // start_by too: an expired job replayed runs (its deadline was its first series').
  set: `attempts = 0, series = jobs.series + 1, error = null, result = null, progress = 0, progress_message = null, started_at = null,
        finished_at = null, cancel_requested = false, dead_lettered_at = null, dead_letter_seq = null, msg_seq = null,
        timeout_ms = coalesce(x.timeout_ms, jobs.timeout_ms), run_at = null, start_by = null`,
};

/** A FAILED job to replay, locked by the caller's transaction (db/replay.ts `lockReplayCandidates`). */
export interface ReplayRow {
  id: string;
  /** Its type's work subject. */
  subject: string;
  /** Its copy's sequence in the dead-letter stream, if one is recorded. */
  deadLetterSeq: number | null;
}

/** A replay's outbox entries as its insert's input (`recordset`). */
const OUTBOX_COLUMNS: RecordsetColumn<Omit<OutboxEntry, 'id' | 'notBefore'>>[] = [
  ['job_id', 'uuid', (e) => e.jobId],
  ['subject', 'text', (e) => e.subject],
  ['msg_id', 'text', (e) => e.msgId],
  ['body', 'jsonb', (e) => e.body],
  ['traceparent', 'text', (e) => e.traceparent],
];

/**
 * `retryJob` / `retryJobs`: FAILED → QUEUED as a new attempt series (attempts 0; with `timeoutMs`, that
 * per-attempt timeout), with an outbox entry each, inside the caller's transaction, which holds the rows'
 * locks; the dead-letter copies recorded go to `dead_letter_removals` in it. Answers, per row, the replayed
 * job and its outbox entry, or null (not FAILED).
 */
export async function replayFailedJobs(
  tx: Sql,
  rows: readonly ReplayRow[],
  timeoutMs: number | null,
): Promise<({ job: JobRow; outbox: OutboxEntry } | null)[]> {
  if (!rows.length) return [];
  const jobs = await transition(tx, REPLAY, rows.map((r) => ({ id: r.id, message: 'replayed', timeout_ms: timeoutMs })));
  const replayed = rows.flatMap((r, i) => (jobs[i] ? [{ row: r, job: jobs[i] }] : []));
  const stale = replayed.flatMap(({ row }) => (row.deadLetterSeq === null ? [] : [row.deadLetterSeq]));
  if (stale.length) await noteStaleCopies(tx, stale); // their copies: no dead letters any more
  const entries = replayed.map(({ row, job }) => ({
    jobId: job.id,
    subject: row.subject,
    msgId: `${job.id}:${job.series}`,
    body: { id: job.id, type: job.type, series: job.series },
    traceparent: job.traceparent,
  }));
  const input = recordset(OUTBOX_COLUMNS, entries); // as a submit's rows: arrays from ARRAYS_FROM entries on
  const inserted = await tx.unsafe<{ id: string; jobId: string }[]>(
    `insert into outbox (job_id, subject, msg_id, body, traceparent)
     select job_id, subject, msg_id, body, traceparent from ${input.from} as x
     returning id, job_id as "jobId"`,
    input.params as never[],
  );
  const outboxIds = new Map(inserted.map((o) => [o.jobId, Number(o.id)]));
  const outbox = new Map(entries.map((e) => [e.jobId, { id: outboxIds.get(e.jobId)!, ...e }]));
  return jobs.map((job) => (job ? { job, outbox: outbox.get(job.id)! } : null));
}
