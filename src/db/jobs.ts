/**
 * Job rows: the column lists every read uses, the submit insert (jobs and their outbox entries in one
 * statement, concurrent submits group-committed) and the reads of jobs and their history. State changes are
 * in transitions.ts, the running attempts' own writes in attempts.ts.
 */
import type { Sql } from './client.js';
import { groupCommit } from './group-commit.js';
import { recordset, type RecordsetColumn } from './recordset.js';
import type { JobEventRow, JobRow, KeyedJobRow } from './schema.js';
import type { OutboxEntry } from './outbox.js';
import type { JobState } from '../jobs/state.js';

/**
 * A job's columns as read and as every transition answers them (JobRow). Not its idempotency key, which only
 * the submit's look-up by key reads (KeyedJobRow): each column is a property of every row postgres.js builds,
 * and past 28 of them (a transition's rows have one more, `i`) V8 builds those rows as slow dictionaries; a
 * 29th made the worker's claims and completions cost a fifth more CPU (measured with `runAt` added).
 */
export const JOB_COLUMNS = `id, owner, type, state, payload, progress, progress_message as "progressMessage", attempts,
  max_attempts as "maxAttempts", timeout_ms as "timeoutMs", result, error,
  seq, seq_reserved as "seqReserved", series, cancel_requested as "cancelRequested", lease_until as "leaseUntil",
  created_at as "createdAt", updated_at as "updatedAt", started_at as "startedAt", finished_at as "finishedAt",
  next_attempt_at as "nextAttemptAt", msg_seq::float8 as "msgSeq", dead_lettered_at as "deadLetteredAt",
  dead_letter_seq::float8 as "deadLetterSeq", traceparent, run_at as "runAt"`;

/**
 * The columns of a job's live update and of the metrics of its end (`UpdatedJob`): what a success answers its
 * worker, which has the rest (its payload, its claim) and does not use it; half of JOB_COLUMNS, so half the
 * parsing and allocation per completed job.
 */
export const UPDATE_COLUMNS = `id, owner, type, state, progress, progress_message as "progressMessage", attempts, result, error, seq,
  created_at as "createdAt", updated_at as "updatedAt", finished_at as "finishedAt"`;

/** A job row as UPDATE_COLUMNS reads it. */
export type UpdatedJob = Pick<
  JobRow,
  'id' | 'owner' | 'type' | 'state' | 'progress' | 'progressMessage' | 'attempts' | 'result' | 'error' | 'seq' | 'createdAt' | 'updatedAt' | 'finishedAt'
>;

export const EVENT_COLUMNS = `job_id as "jobId", seq, kind, state, progress, message, attempt, result, error, at`;

/** A job to insert (validated by `jobs/submit-check.ts`). */
export interface NewJob {
  id: string;
  owner: string;
  type: string;
  payload: unknown;
  maxAttempts: number;
  timeoutMs: number;
  idempotencyKey: string | null;
  traceparent: string | null;
  /** Outbox subject for its message. */
  subject: string;
  /** Not to start before this instant (a scheduled job: its outbox entry waits until then); null: at once. */
  runAt?: Date | null;
  /** No attempt starts after this instant (null: none). */
  startBy?: Date | null;
}

/** Tries of `insertJobs` for a key whose job is deleted between its insert and its read. */
export const INSERT_ROUNDS = 3;

/** A submit's input rows (`recordset`): `n` is the row's place in the input. */
const INSERT_COLUMNS: RecordsetColumn<NewJob>[] = [
  ['id', 'uuid', (j) => j.id],
  ['owner', 'text', (j) => j.owner],
  ['type', 'text', (j) => j.type],
  ['payload', 'jsonb', (j) => j.payload],
  ['max_attempts', 'int', (j) => j.maxAttempts],
  ['timeout_ms', 'int', (j) => j.timeoutMs],
  ['idempotency_key', 'text', (j) => j.idempotencyKey],
  ['traceparent', 'text', (j) => j.traceparent],
  ['subject', 'text', (j) => j.subject],
  ['run_at', 'timestamptz', (j) => j.runAt],
  ['start_by', 'timestamptz', (j) => j.startBy],
  ['n', 'int', (_, i) => i],
];

/** What a submit's insert answers: the jobs it inserted (with their outbox entries), and those holding keys it found taken. */
export interface InsertResult {
  inserted: { job: JobRow; outbox: OutboxEntry }[];
  existing: KeyedJobRow[];
}

/**
 * Inserts jobs (QUEUED, seq 1) and their outbox entries in one statement, so one transaction. The history's
 * first row (seq 1, QUEUED) is not stored: the `job_history` view derives it from the job row.
 * A job whose (owner, idempotencyKey) exists is not inserted: it is returned from `existing` instead.
 *
 * The job holding a key is read by a second statement, so it can be gone by then (retention or `purgeJobs`
 * deleted it between the two): the key is free again, and such jobs are inserted anew, in up to
 * `rounds` rounds in all. A key still answered by neither (deleted again each time) is left out of both.
 *
 * A statement that fails once an insert has committed (the read of the taken keys' jobs, or a later round's
 * insert) does not throw: what was committed is answered, and `unanswered` holds the error, which is the
 * answer of the inputs in neither list. A group of submits (`createJobInserter`) so answers each call by its
 * own jobs: a call without keys was committed and is answered with its jobs, not an error that a client would
 * retry into a second job.
 *
 * When `sql` is a transaction, give `rounds` 1: the keys inserted stay taken until the commit, so a second
 * round would take a freed key after them, out of (owner, key) order, and could deadlock with another
 * transaction that took that key and waits for one of them. Run the whole transaction again instead.
 */
export async function insertJobs(sql: Sql, input: NewJob[], rounds = INSERT_ROUNDS): Promise<InsertResult & { unanswered?: unknown }> {
  const out: InsertResult = { inserted: [], existing: [] };
  let pending = input;
  for (let round = 0; round < rounds && pending.length; round++) {
    try {
      const r = await insertRound(sql, pending, (inserted) => out.inserted.push(...inserted));
      out.existing.push(...r.existing);
      const found = new Set(r.existing.map((j) => `${j.owner}\u0000${j.idempotencyKey}`));
      pending = r.missing.filter((j) => !found.has(`${j.owner}\u0000${j.idempotencyKey}`));
    } catch (e) {
      if (!out.inserted.length) throw e; // nothing of it was written
      return { ...out, unanswered: e };
    }
  }
  return out;
}

/**
 * One try of `insertJobs`: what it inserted (handed to `committed` as soon as the insert answers), the existing
 * jobs of the keys it found taken, and those inputs.
 */
async function insertRound(
  sql: Sql,
  input: NewJob[],
  committed: (inserted: InsertResult['inserted']) => void,
): Promise<{ existing: KeyedJobRow[]; missing: NewJob[] }> {
  // Keyed rows go in (owner, key) order: a statement waits for a key that another uncommitted insert holds,
  // so statements and transactions (a batch with keys, jobs/submit.ts) that all take their keys in one order
  // cannot deadlock over two keys taken in opposite orders. Of two rows with one key (two submits grouped
  // into one statement), the earlier input is inserted, as before.
  // Only what PostgreSQL decides comes back (the rest of each row is the input and the table's defaults,
  // see `queuedRow`): reading back every column of a thousand rows cost the API more than the insert.
  // The input (`recordset`: one JSON document, or from ARRAYS_FROM rows an array per column) is read twice, so
  // PostgreSQL makes it once; both joins on it are hash joins (checked with `auto_explain` for the arrays).
  const rows = recordset(INSERT_COLUMNS, input);
  const result = await sql.unsafe<{ id: string; payload: unknown; createdAt: Date; outboxId: string; outboxBody: unknown }[]>(
    `with input as (select * from ${rows.from} as x), j as (
       insert into jobs (id, owner, type, payload, max_attempts, timeout_ms, idempotency_key, traceparent, run_at, start_by)
       select id, owner, type, payload, max_attempts, timeout_ms, idempotency_key, traceparent, run_at, start_by from input
       order by owner, idempotency_key, n
       on conflict (owner, idempotency_key) where idempotency_key is not null do nothing
       returning id, type, payload, created_at, traceparent
     ), o as (
       insert into outbox (job_id, subject, msg_id, body, traceparent, not_before)
       select j.id, i.subject, j.id::text, jsonb_build_object('id', j.id, 'type', j.type, 'series', 1), j.traceparent, i.run_at
       from j join input i on i.id = j.id
       returning id as o_id, job_id as o_job_id, body as o_body
     )
     select j.id, j.payload, j.created_at as "createdAt", o_id as "outboxId", o_body as "outboxBody"
     from j join o on o_job_id = j.id`,
    rows.params as never[],
  );
  const byId = new Map(input.map((j) => [j.id, j]));
  const inserted = result.map((r) => {
    const j = byId.get(r.id)!;
    return {
      job: queuedRow(j, r.payload, r.createdAt),
      outbox: { id: Number(r.outboxId), jobId: j.id, subject: j.subject, msgId: j.id, body: r.outboxBody, traceparent: j.traceparent, notBefore: j.runAt ?? null },
    };
  });
  committed(inserted); // before the read, which can fail
  const insertedIds = new Set(result.map((r) => r.id));
  const missing = input.filter((j) => j.idempotencyKey !== null && !insertedIds.has(j.id));
  const existing = missing.length
    ? await sql.unsafe<KeyedJobRow[]>(
        `select ${JOB_COLUMNS}, idempotency_key as "idempotencyKey" from jobs where (owner, idempotency_key) in
           (select * from unnest($1::text[], $2::text[]))`,
        [missing.map((j) => j.owner), missing.map((j) => j.idempotencyKey!)] as never,
      )
    : [];
  return { existing, missing };
}

/**
 * The row `insertJobs` wrote for `job`: its input, the columns' defaults (`job-tables.ts`: QUEUED, seq 1, series
 * 1, …) and what PostgreSQL decided (the stored payload, `created_at`). `insert.returning.test.ts` holds it
 * equal to the row read back.
 */
function queuedRow(job: NewJob, payload: unknown, createdAt: Date): JobRow {
  return {
    id: job.id,
    owner: job.owner,
    type: job.type,
    state: 'QUEUED',
    payload,
    progress: 0,
    progressMessage: null,
    attempts: 0,
    maxAttempts: job.maxAttempts,
    timeoutMs: job.timeoutMs,
    result: null,
    error: null,
    seq: 1,
    seqReserved: 1,
    series: 1,
    cancelRequested: false,
    leaseUntil: null,
    createdAt,
    updatedAt: createdAt,
    startedAt: null,
    finishedAt: null,
    nextAttemptAt: null,
    msgSeq: null,
    deadLetteredAt: null,
    deadLetterSeq: null,
    traceparent: job.traceparent,
    runAt: job.runAt ?? null,
  };
}

export async function getJob(sql: Sql, id: string): Promise<JobRow | null> {
  const [row] = await sql.unsafe<JobRow[]>(`select ${JOB_COLUMNS} from jobs where id = $1`, [id]);
  return row ?? null;
}

/** An owner's jobs that hold these idempotency keys. */
export async function getJobsByKeys(sql: Sql, owner: string, keys: readonly string[]): Promise<Pick<KeyedJobRow, 'id' | 'type' | 'idempotencyKey'>[]> {
  return sql.unsafe(
    `select id, type, idempotency_key as "idempotencyKey" from jobs where owner = $1 and idempotency_key = any($2::text[])`,
    [owner, keys as never],
  );
}

export async function getJobs(sql: Sql, ids: readonly string[]): Promise<JobRow[]> {
  return sql.unsafe<JobRow[]>(`select ${JOB_COLUMNS} from jobs where id = any($1::uuid[])`, [ids as never]);
}

/** Each job's owner and state alone: what `cancelJobs` checks of the ids it is given (not up to 1,000 payloads). */
export async function getJobStates(sql: Sql, ids: readonly string[]): Promise<Pick<JobRow, 'id' | 'owner' | 'state'>[]> {
  return sql.unsafe(`select id, owner, state from jobs where id = any($1::uuid[])`, [ids as never]);
}

/** Which jobs a filtered `cancelJobs` takes: not finished, and not already asked to stop. */
export interface ActiveJobFilter {
  /** null: anyone's. */
  owner: string | null;
  /** null: every type. */
  types: readonly string[] | null;
  /** Some of QUEUED, RETRYING, RUNNING (checked values: they are written into the statement). */
  states: readonly JobState[];
  /** `created_at` before this instant (ISO). */
  submittedBefore: string;
}

// The states are written out, so that the planner can read the jobs through `jobs_state_updated`.
const matchingActive = (f: ActiveJobFilter) => `state in (${f.states.map((s) => `'${s}'`).join(', ')}) and not cancel_requested
       and ($1::text[] is null or type = any($1::text[])) and ($2::text is null or owner = $2) and created_at < $3::timestamptz`;
const activeParams = (f: ActiveJobFilter) => [f.types as never, f.owner, f.submittedBefore];

/** Up to `limit` ids of jobs that match, those submitted first first. */
export async function activeJobsMatching(sql: Sql, f: ActiveJobFilter, limit: number): Promise<string[]> {
  const rows = await sql.unsafe<{ id: string }[]>(
    `select id from jobs where ${matchingActive(f)} order by created_at, id limit $4`,
    [...activeParams(f), limit],
  );
  return rows.map((r) => r.id);
}

/** Whether a job that matches is left. */
export async function activeJobsLeft(sql: Sql, f: ActiveJobFilter): Promise<boolean> {
  const [row] = await sql.unsafe<{ left: boolean }[]>(`select exists(select 1 from jobs where ${matchingActive(f)}) as left`, activeParams(f));
  return row!.left;
}

/**
 * The job's history after `afterSeq`, in seq order (`job_history`: the stored rows and the derived first one),
 * at most `limit` rows (the first ones; null: all).
 */
export async function getEvents(sql: Sql, jobId: string, afterSeq = 0, limit: number | null = null): Promise<JobEventRow[]> {
  return sql.unsafe<JobEventRow[]>(
    `select ${EVENT_COLUMNS} from job_history where job_id = $1 and seq > $2 order by seq limit $3`,
    [jobId, afterSeq, limit as never],
  );
}

/**
 * Group commit for submits (`groupCommit`): concurrent submits are inserted together, in one statement and
 * one commit. Each caller gets back its own jobs: those it inserted, and the existing ones its idempotency
 * keys matched. A call some of whose jobs went unanswered (`insertJobs`' `unanswered`: a read of taken keys
 * failed after the insert committed) fails with that error; the others are answered.
 */
export function createJobInserter(sql: Sql, maxRows = 1000): (jobs: NewJob[]) => Promise<InsertResult> {
  const keyOf = (owner: string, key: string | null) => `${owner}\u0000${key}`;
  const grouped = groupCommit(
    async (calls: NewJob[][]): Promise<(InsertResult | { failed: unknown })[]> => {
      const r = await insertJobs(sql, calls.flat());
      return calls.map((jobs) => {
        const ids = new Set(jobs.map((j) => j.id));
        const keys = new Set(jobs.filter((j) => j.idempotencyKey !== null).map((j) => keyOf(j.owner, j.idempotencyKey)));
        const mine: InsertResult = {
          inserted: r.inserted.filter((x) => ids.has(x.job.id)),
          existing: r.existing.filter((j) => keys.has(keyOf(j.owner, j.idempotencyKey))),
        };
        const answered = mine.inserted.length + new Set(mine.existing.map((j) => keyOf(j.owner, j.idempotencyKey))).size;
        return r.unanswered !== undefined && answered < ids.size ? { failed: r.unanswered } : mine;
      });
    },
    { maxSize: maxRows, sizeOf: (jobs) => jobs.length },
  );
  return async (jobs) => {
    const r = await grouped(jobs);
    if ('failed' in r) throw r.failed;
    return r;
  };
}
