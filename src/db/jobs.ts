/**
 * Every SQL statement about jobs. State changes go through `transition()`: one guarded
 * `UPDATE … FROM (the batch) WHERE state IN (allowed) [AND attempts = fence] RETURNING`, with the history
 * rows written in the same statement; a batch is one job or many (workers claim and complete in batches).
 * A job the statement does not return was not allowed to change (or the caller's attempt is stale): the
 * caller gets `null` for it and decides; nothing is ever overwritten silently.
 *
 * Seq numbers: `seq` is the job's last recorded change. A running attempt also publishes live progress that
 * is not recorded row by row; it takes seqs from a block reserved at claim (`seq_reserved`), so seqs stay
 * monotonic even when a worker dies with published but unrecorded progress.
 */
import { preparing, type Sql } from './client.js';
import { groupCommit } from './group-commit.js';
import type { JobEventRow, JobRow } from './schema.js';
import { ALLOWED_FROM, isTerminal, type JobState } from '../jobs/state.js';
import { noteStaleCopies } from './dead-letter-removals.js';
import { NOTIFY_ON_TERMINAL_CTES, type DeliveryMessage } from './notifications.js';
import { observeTransition } from '../observability/metrics.js';

/** Live-progress seqs a claim reserves. */
export const SEQ_RESERVE = 1000;

export const JOB_COLUMNS = `id, owner, type, state, payload, progress, progress_message as "progressMessage", attempts,
  max_attempts as "maxAttempts", timeout_ms as "timeoutMs", result, error, idempotency_key as "idempotencyKey",
  seq, seq_reserved as "seqReserved", series, cancel_requested as "cancelRequested", lease_until as "leaseUntil",
  created_at as "createdAt", updated_at as "updatedAt", started_at as "startedAt", finished_at as "finishedAt",
  next_attempt_at as "nextAttemptAt", msg_seq::float8 as "msgSeq", dead_lettered_at as "deadLetteredAt",
  dead_letter_seq as "deadLetterSeq", traceparent`;

/** JOB_COLUMNS with a null payload: for a success, whose payload its worker has and its update does not carry. */
const JOB_COLUMNS_NO_PAYLOAD = JOB_COLUMNS.replace('payload,', 'null::jsonb as payload,');

export const EVENT_COLUMNS = `job_id as "jobId", seq, kind, state, progress, message, attempt, result, error, at`;

/** A job to insert (validated by `jobs/submit.ts`). */
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
}

/** What the outbox relay publishes. */
export interface OutboxEntry {
  id: number;
  jobId: string;
  subject: string;
  msgId: string;
  body: unknown;
  traceparent: string | null;
}

/** Tries of `insertJobs` for a key whose job is deleted between its insert and its read. */
const INSERT_ROUNDS = 3;

/**
 * Inserts jobs (QUEUED, seq 1) and their outbox entries in one statement, so one transaction. The history's
 * first row (seq 1, QUEUED) is not stored: the `job_history` view derives it from the job row.
 * A job whose (owner, idempotencyKey) exists is not inserted: it is returned from `existing` instead.
 *
 * The job holding a key is read by a second statement, so it can be gone by then (retention or `purgeJobs`
 * deleted it between the two): the key is free again, and such jobs are inserted anew, up to
 * INSERT_ROUNDS times. A key still answered by neither (deleted again each time) is left out of both.
 */
export async function insertJobs(
  sql: Sql,
  input: NewJob[],
): Promise<{ inserted: { job: JobRow; outbox: OutboxEntry }[]; existing: JobRow[] }> {
  const out: { inserted: { job: JobRow; outbox: OutboxEntry }[]; existing: JobRow[] } = { inserted: [], existing: [] };
  let pending = input;
  for (let round = 0; round < INSERT_ROUNDS && pending.length; round++) {
    const r = await insertRound(sql, pending);
    out.inserted.push(...r.inserted);
    out.existing.push(...r.existing);
    const found = new Set(r.existing.map((j) => `${j.owner}\u0000${j.idempotencyKey}`));
    pending = r.missing.filter((j) => !found.has(`${j.owner}\u0000${j.idempotencyKey}`));
  }
  return out;
}

/** One try of `insertJobs`: what it inserted, the existing jobs of the keys it found taken, and those inputs. */
async function insertRound(
  sql: Sql,
  input: NewJob[],
): Promise<{ inserted: { job: JobRow; outbox: OutboxEntry }[]; existing: JobRow[]; missing: NewJob[] }> {
  const rows = input.map((j) => ({
    id: j.id,
    owner: j.owner,
    type: j.type,
    payload: j.payload,
    max_attempts: j.maxAttempts,
    timeout_ms: j.timeoutMs,
    idempotency_key: j.idempotencyKey,
    traceparent: j.traceparent,
    subject: j.subject,
  }));
  // Only what PostgreSQL decides comes back (the rest of each row is the input and the table's defaults,
  // see `queuedRow`): reading back every column of a thousand rows cost the API more than the insert.
  const result = await sql.unsafe<{ id: string; payload: unknown; createdAt: Date; outboxId: string; outboxBody: unknown }[]>(
    `with input as (
       select * from jsonb_to_recordset($1::text::jsonb) as x(id uuid, owner text, type text, payload jsonb,
         max_attempts int, timeout_ms int, idempotency_key text, traceparent text, subject text)
     ), j as (
       insert into jobs (id, owner, type, payload, max_attempts, timeout_ms, idempotency_key, traceparent)
       select id, owner, type, payload, max_attempts, timeout_ms, idempotency_key, traceparent from input
       on conflict (owner, idempotency_key) where idempotency_key is not null do nothing
       returning id, type, payload, created_at, traceparent
     ), o as (
       insert into outbox (job_id, subject, msg_id, body, traceparent)
       select j.id, i.subject, j.id::text, jsonb_build_object('id', j.id, 'type', j.type, 'series', 1), j.traceparent
       from j join input i on i.id = j.id
       returning id as o_id, job_id as o_job_id, body as o_body
     )
     select j.id, j.payload, j.created_at as "createdAt", o_id as "outboxId", o_body as "outboxBody"
     from j join o on o_job_id = j.id`,
    [JSON.stringify(rows)],
  );
  const byId = new Map(input.map((j) => [j.id, j]));
  const inserted = result.map((r) => {
    const j = byId.get(r.id)!;
    return {
      job: queuedRow(j, r.payload, r.createdAt),
      outbox: { id: Number(r.outboxId), jobId: j.id, subject: j.subject, msgId: j.id, body: r.outboxBody, traceparent: j.traceparent },
    };
  });
  const insertedIds = new Set(result.map((r) => r.id));
  const missing = input.filter((j) => j.idempotencyKey !== null && !insertedIds.has(j.id));
  const existing = missing.length
    ? await sql.unsafe<JobRow[]>(
        `select ${JOB_COLUMNS} from jobs where (owner, idempotency_key) in
           (select * from unnest($1::text[], $2::text[]))`,
        [missing.map((j) => j.owner), missing.map((j) => j.idempotencyKey!)] as never,
      )
    : [];
  return { inserted, existing, missing };
}

/**
 * The row `insertJobs` wrote for `job`: its input, the columns' defaults (`schema.ts`: QUEUED, seq 1, series
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
    idempotencyKey: job.idempotencyKey,
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
  };
}

export async function getJob(sql: Sql, id: string): Promise<JobRow | null> {
  const [row] = await sql.unsafe<JobRow[]>(`select ${JOB_COLUMNS} from jobs where id = $1`, [id]);
  return row ?? null;
}

/** An owner's jobs that hold these idempotency keys. */
export async function getJobsByKeys(sql: Sql, owner: string, keys: readonly string[]): Promise<Pick<JobRow, 'id' | 'type' | 'idempotencyKey'>[]> {
  return sql.unsafe(
    `select id, type, idempotency_key as "idempotencyKey" from jobs where owner = $1 and idempotency_key = any($2::text[])`,
    [owner, keys as never],
  );
}

export async function getJobs(sql: Sql, ids: readonly string[]): Promise<JobRow[]> {
  return sql.unsafe<JobRow[]>(`select ${JOB_COLUMNS} from jobs where id = any($1::uuid[])`, [ids as never]);
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

/** One kind of guarded transition: a fixed statement, applied to a batch of jobs (rows). */
interface Transition {
  to: JobState;
  /** Only the holder of the row's attempt (`attempt` of `series`) may write (a worker's fence). */
  fenced?: boolean;
  /** Seqs to reserve after the event's for live progress (a claim). */
  reserve?: number;
  /** Extra SET clauses; a row's own values are `x.<column>` (see `columns`). */
  set?: string;
  /** Extra WHERE clauses. */
  where?: string;
  /** Extra per-row input columns: name → PostgreSQL type. */
  columns?: Record<string, string>;
  /** The returned jobs' `payload` is null (not read back): their callers do not use it. */
  withoutPayload?: boolean;
}

/** One job of a transition batch. */
interface TransitionRow {
  id: string;
  /** The fence, for a `fenced` transition: the attempt, in its attempt series (a claim's series too). */
  attempt?: number;
  series?: number;
  /** The holder's last used seq; the event gets the next one. Without it: after every reserved seq. */
  lastSeq?: number;
  /** History row: 'state', or 'error' for a failed attempt (with the job's `error`). */
  kind?: 'state' | 'error';
  message?: string | null;
  /** Values of the transition's extra `columns`. */
  [column: string]: unknown;
}

/**
 * Applies a transition to a batch of jobs in one statement (one commit): each row's job changes only if the
 * transition is allowed from its state (and its fence holds); its history row is written in the same
 * statement. Answers, per input row, the changed job or null. (A job named twice in one batch changes once:
 * the other row gets null.)
 */
async function transition(sql: Sql, t: Transition, rows: readonly TransitionRow[]): Promise<(JobRow | null)[]> {
  if (!rows.length) return [];
  const extra = Object.entries(t.columns ?? {});
  // In id order, so concurrent batches (a worker's claims and completions) lock shared rows in one order
  // and cannot deadlock; `i` maps each row back to its caller.
  // A key left out is null in the statement (and 'state' for `kind`): less to encode and parse per row.
  const input = rows.map((r, i) => {
    const x: Record<string, unknown> = { i, id: r.id };
    if (r.attempt != null) x.attempt = r.attempt;
    if (r.series != null) x.series = r.series;
    if (r.lastSeq != null) x.last_seq = r.lastSeq;
    if (r.kind && r.kind !== 'state') x.kind = r.kind;
    if (r.message != null) x.message = r.message;
    for (const [name] of extra) if (r[name] != null) x[name] = r[name];
    return x;
  });
  input.sort((a, b) => (a.id === b.id ? 0 : (a.id as string) < (b.id as string) ? -1 : 1));
  const nextSeq = `coalesce(x.last_seq + 1, greatest(jobs.seq, jobs.seq_reserved) + 1)`;
  // Each job is looked up by id (`id = any($2)`), and the allowed-from check (`state::text`) cannot be
  // answered from the state indexes: with stale statistics (a busy queue outruns ANALYZE; autovacuum may be
  // off) the planner otherwise scans every active job's index entries, or the whole table, per batch.
  const found = await sql.unsafe<(JobRow & { i: number })[]>(
    `with x as (
       select * from jsonb_to_recordset($1::text::jsonb) as x(i int, id uuid, attempt int, series int, last_seq int, kind text,
         message text${extra.map(([name, type]) => `, ${name} ${type}`).join('')})
     ), j as (
       update jobs set state = '${t.to}', updated_at = now(), seq = ${nextSeq},
         seq_reserved = ${nextSeq} + ${t.reserve ?? 0}
         ${t.set ? `, ${t.set}` : ''}
       from x
       where jobs.id = any($2::uuid[]) and jobs.id = x.id and jobs.state::text in (${ALLOWED_FROM[t.to].map((s) => `'${s}'`).join(',')})
         ${t.fenced ? 'and jobs.attempts = x.attempt and jobs.series = x.series' : ''}${t.where ? ` and ${t.where}` : ''}
       returning jobs.*, x.i as x_i, coalesce(x.kind, 'state') as x_kind, x.message as x_message
     ), e as (
       insert into job_events (job_id, seq, kind, state, progress, message, attempt, result, error, at)
       select id, seq, x_kind, state, progress, x_message, attempts, result,
         case when x_kind = 'error' then error end, updated_at from j
     )${isTerminal(t.to) ? NOTIFY_ON_TERMINAL_CTES : ''}
     select ${t.withoutPayload ? JOB_COLUMNS_NO_PAYLOAD : JOB_COLUMNS}, x_i as i from j`,
    [JSON.stringify(input), input.map((x) => x.id)] as never[],
  );
  const out: (JobRow | null)[] = rows.map(() => null);
  for (const { i, ...job } of found) {
    out[i] = job as JobRow;
    observeTransition(job as JobRow);
  }
  return out;
}

const first = async (rows: Promise<(JobRow | null)[]>): Promise<JobRow | null> => (await rows)[0] ?? null;

/** A delivered job to claim. */
export interface Claim {
  id: string;
  series: number;
  leaseMs: number;
  msgSeq: number;
}

const CLAIM: Transition = {
  to: 'RUNNING',
  set: `attempts = attempts + 1, started_at = now(), lease_until = now() + x.lease_ms * interval '1 millisecond',
      progress = 0, progress_message = null, next_attempt_at = null, msg_seq = x.msg_seq`,
  reserve: SEQ_RESERVE,
  where: `jobs.series = x.series and not cancel_requested and attempts < max_attempts
      and (state <> 'RUNNING' or lease_until < now())`,
  columns: { lease_ms: 'int', msg_seq: 'bigint' },
};

/**
 * Workers claim delivered jobs: QUEUED/RETRYING (or RUNNING whose lease expired) → RUNNING, attempts + 1.
 * Null for a job another worker holds, that is finished, cancelled, from an older series, or out of attempts.
 */
export function markRunningMany(sql: Sql, claims: readonly Claim[]): Promise<(JobRow | null)[]> {
  return transition(
    sql,
    CLAIM,
    claims.map((c) => ({ id: c.id, series: c.series, lease_ms: c.leaseMs, msg_seq: c.msgSeq })),
  );
}

export const markRunning = (sql: Sql, a: Claim): Promise<JobRow | null> => first(markRunningMany(sql, [a]));

/**
 * The attempt a write is for: it applies only while the job is still in that attempt of that attempt series.
 * A worker's writes carry the attempt it claimed (a stalled worker's late write is refused once the job has
 * moved on); the dead-letter component's, the job as it read it. `retryJob` starts a new series with
 * attempts from 0, so without the series a stale attempt 1 would pass for the replay's attempt 1.
 */
export interface Fence {
  attempt: number;
  series: number;
}

/** An attempt whose handler returned; `progressMessage` is the last one it reported (its throttled write may not have landed). */
export interface Success extends Fence {
  id: string;
  lastSeq: number;
  result: unknown;
  progressMessage: string | null;
}

const SUCCEED: Transition = {
  to: 'SUCCEEDED',
  fenced: true,
  withoutPayload: true,
  set: `result = x.result, error = null, progress = 100, progress_message = x.progress_message, finished_at = now(), lease_until = null`,
  columns: { result: 'jsonb', progress_message: 'text' },
};

/** SUCCEEDED, for the attempts whose fence holds; the jobs come back without their payload (null). */
export function markSucceededMany(sql: Sql, done: readonly Success[]): Promise<(JobRow | null)[]> {
  return transition(
    sql,
    SUCCEED,
    done.map((d) => ({ id: d.id, attempt: d.attempt, series: d.series, lastSeq: d.lastSeq, result: d.result ?? null, progress_message: d.progressMessage })),
  );
}

export const markSucceeded = (sql: Sql, a: Success): Promise<JobRow | null> => first(markSucceededMany(sql, [a]));

/**
 * An attempt whose cancel was asked for is not retried or handed back: its worker records CANCELLED instead
 * (the cancel came as the attempt ended, too late to abort it). Retried, it would wait out its backoff and be
 * cancelled only when its message came back.
 */
const NOT_CANCELLING = 'not cancel_requested';

const RETRY: Transition = {
  to: 'RETRYING',
  fenced: true,
  set: `error = x.message, lease_until = null, next_attempt_at = now() + x.delay_ms * interval '1 millisecond'`,
  where: NOT_CANCELLING,
  columns: { delay_ms: 'int' },
};

/** The attempt failed and another is due at `nextAttemptAt`; null also when a cancel was asked for. */
export function markRetrying(sql: Sql, a: Fence & { id: string; lastSeq: number; error: string; delayMs: number }) {
  return first(
    transition(sql, RETRY, [{ id: a.id, attempt: a.attempt, series: a.series, lastSeq: a.lastSeq, kind: 'error', message: a.error, delay_ms: a.delayMs }]),
  );
}

/** The job as the dead-letter component read it: its fence is the attempt and series it was in. */
export const fenceAsRead = (job: { attempts: number; series: number }): Fence => ({ attempt: job.attempts, series: job.series });

/** Without a fence (neither `attempt` nor `series`): any job. */
type MaybeFenced = Fence | { attempt?: undefined; series?: undefined };

const FAIL = `error = x.message, finished_at = now(), lease_until = null, next_attempt_at = null`;
const FAIL_ATTEMPT: Transition = { to: 'FAILED', fenced: true, set: FAIL };
const FAIL_JOB: Transition = { to: 'FAILED', set: FAIL };

/**
 * FAILED: a worker's permanent or last failed attempt (its fence and `lastSeq`), the dead-letter component
 * finding a job whose deliveries ran out (`fenceAsRead`, so a job replayed or claimed again since the read
 * is left alone), or any job (no fence).
 */
export function markFailed(sql: Sql, a: MaybeFenced & { id: string; error: string; lastSeq?: number; attemptFailed: boolean }) {
  const row: TransitionRow = { id: a.id, kind: a.attemptFailed ? 'error' : 'state', message: a.error };
  if (a.lastSeq !== undefined) row.lastSeq = a.lastSeq;
  if (a.attempt === undefined) return first(transition(sql, FAIL_JOB, [row]));
  return first(transition(sql, FAIL_ATTEMPT, [{ ...row, attempt: a.attempt, series: a.series }]));
}

const HAND_BACK: Transition = {
  to: 'QUEUED',
  fenced: true,
  set: `attempts = attempts - 1, started_at = null, lease_until = null, progress = 0, progress_message = null`,
  where: NOT_CANCELLING,
};

/** A worker hands its job back on shutdown: RUNNING → QUEUED; the attempt is not counted. Null also when a cancel was asked for. */
export function markQueuedAgain(sql: Sql, a: Fence & { id: string; lastSeq: number }) {
  return first(transition(sql, HAND_BACK, [{ ...a, message: 'handed back by a stopping worker' }]));
}

const CANCEL = `cancel_requested = true, finished_at = now(), lease_until = null, next_attempt_at = null`;
const CANCEL_ATTEMPT: Transition = { to: 'CANCELLED', fenced: true, set: CANCEL };
const NOT_HELD = `(state <> 'RUNNING' or lease_until < now())`;
const CANCEL_WAITING: Transition = { to: 'CANCELLED', set: CANCEL, where: NOT_HELD };
const CANCEL_AS_READ: Transition = { to: 'CANCELLED', set: CANCEL, fenced: true, where: NOT_HELD };

/**
 * CANCELLED. Without a fence: a job no worker holds: QUEUED, RETRYING, or RUNNING under a lease that has
 * expired (its worker died; `cancelJob` and a redelivery of its message cancel it this way, and the
 * dead-letter sweep with `asRead`, the job's fence as it read it); null while a live lease holds it. With a
 * fence (and `lastSeq`): that running attempt, stopped by its worker.
 */
export function markCancelled(sql: Sql, a: MaybeFenced & { id: string; lastSeq?: number; asRead?: boolean }) {
  const { asRead, ...row } = a;
  return first(transition(sql, a.attempt === undefined ? CANCEL_WAITING : asRead ? CANCEL_AS_READ : CANCEL_ATTEMPT, [row]));
}

/** Asks the worker running the job to stop (no state change until it does). */
export async function requestCancel(sql: Sql, id: string): Promise<JobRow | null> {
  const [row] = await sql.unsafe<JobRow[]>(
    `update jobs set cancel_requested = true, updated_at = now() where id = $1 and state = 'RUNNING'
     returning ${JOB_COLUMNS}`,
    [id],
  );
  return row ?? null;
}

const REPLAY: Transition = {
  to: 'QUEUED',
  where: `state = 'FAILED'`,
  set: `attempts = 0, series = jobs.series + 1, error = null, result = null, progress = 0, progress_message = null, started_at = null,
        finished_at = null, cancel_requested = false, dead_lettered_at = null, dead_letter_seq = null, msg_seq = null`,
};

/**
 * `retryJob`: FAILED → QUEUED as a new attempt series (attempts 0), with its outbox entry, in one transaction;
 * its dead-letter copy, if recorded, goes to `dead_letter_removals` in it.
 */
export async function replayFailedJob(
  sql: Sql,
  a: { id: string; subject: string },
): Promise<{ job: JobRow; outbox: OutboxEntry } | null> {
  return sql.begin(async (raw) => {
    const tx = preparing(raw);
    const [old] = await tx.unsafe<{ seq: number | null }[]>(`select dead_letter_seq::float8 as seq from jobs where id = $1 for update`, [a.id]);
    const [job] = await transition(tx as unknown as Sql, REPLAY, [{ id: a.id, message: 'replayed' }]);
    if (!job) return null;
    if (old?.seq != null) await noteStaleCopies(tx as unknown as Sql, [old.seq]); // its copy: no dead letter any more
    const [o] = await tx.unsafe<{ id: string }[]>(
      `insert into outbox (job_id, subject, msg_id, body, traceparent) values ($1, $2, $3, $4::text::jsonb, $5) returning id`,
      [job.id, a.subject, `${job.id}:${job.series}`, JSON.stringify({ id: job.id, type: job.type, series: job.series }), job.traceparent],
    );
    return {
      job,
      outbox: {
        id: Number(o!.id),
        jobId: job.id,
        subject: a.subject,
        msgId: `${job.id}:${job.series}`,
        body: { id: job.id, type: job.type, series: job.series },
        traceparent: job.traceparent,
      },
    };
  });
}

/** A throttled progress write by an attempt's holder: a milestone to record (history row `seq`). */
export interface ProgressWrite extends Fence {
  id: string;
  seq: number;
  progress: number;
  message: string | null;
  leaseMs: number;
}

/** What a progress write answers: a cancel was asked for; the seqs reserved for live progress, up to. */
export interface ProgressRecorded {
  cancelRequested: boolean;
  seqReserved: number;
}

/**
 * Progress writes by the attempts' holders, in one statement for all of them (a worker's writes that fall
 * due together): each records its milestone and renews its lease and seq reservation. Answers per write,
 * or null when its fence is lost (the attempt is no longer this worker's). In id order, as transitions lock.
 */
export async function recordProgressMany(sql: Sql, writes: readonly ProgressWrite[]): Promise<(ProgressRecorded | null)[]> {
  if (!writes.length) return [];
  const input = writes
    .map((w) => ({ id: w.id, attempt: w.attempt, series: w.series, seq: w.seq, progress: w.progress, message: w.message, lease_ms: w.leaseMs }))
    .sort((a, b) => (a.id === b.id ? 0 : a.id < b.id ? -1 : 1));
  const rows = await sql.unsafe<(ProgressRecorded & { id: string; attempt: number; series: number })[]>(
    `with x as (
       select * from jsonb_to_recordset($1::text::jsonb)
         as x(id uuid, attempt int, series int, seq int, progress real, message text, lease_ms int)
     ), j as (
       update jobs set progress = x.progress, progress_message = x.message, seq = greatest(jobs.seq, x.seq),
         seq_reserved = greatest(jobs.seq_reserved, x.seq + ${SEQ_RESERVE}), updated_at = now(),
         lease_until = now() + x.lease_ms * interval '1 millisecond'
       from x
       where jobs.id = any($2::uuid[]) and jobs.id = x.id and jobs.state = 'RUNNING' and jobs.attempts = x.attempt
         and jobs.series = x.series
       returning jobs.id, x.seq as x_seq, jobs.state, jobs.progress, jobs.progress_message, jobs.attempts, jobs.series,
         jobs.cancel_requested, jobs.seq_reserved
     ), e as (
       insert into job_events (job_id, seq, kind, state, progress, message, attempt)
       select id, x_seq, 'progress', state, progress, progress_message, attempts from j
       on conflict do nothing
     )
     select id, attempts as attempt, series, cancel_requested as "cancelRequested", seq_reserved as "seqReserved" from j`,
    [JSON.stringify(input), input.map((x) => x.id)] as never[],
  );
  // By job and fence: of two writes for one job (an old attempt's and the new one's), one holds the fence.
  const key = (r: Fence & { id: string }) => `${r.id}:${r.series}:${r.attempt}`;
  const found = new Map(rows.map((r) => [key(r), { cancelRequested: r.cancelRequested, seqReserved: r.seqReserved }]));
  return writes.map((w) => found.get(key(w)) ?? null);
}

/** A running attempt whose lease to renew: its job and the attempt that holds it (the fence). */
export interface Lease extends Fence {
  id: string;
}

/**
 * Renews the holders' leases (with their in-progress acks), in one statement for all of them; answers per
 * lease whether a cancel was requested, or null when its fence is lost. In id order, as transitions lock.
 */
export async function renewLeases(sql: Sql, leases: readonly Lease[], leaseMs: number): Promise<({ cancelRequested: boolean } | null)[]> {
  if (!leases.length) return [];
  const ids = leases.map((l) => l.id).sort();
  const fenceOf = new Map(leases.map((l) => [l.id, l]));
  const rows = await sql.unsafe<{ id: string; cancelRequested: boolean }[]>(
    `update jobs set lease_until = now() + $4 * interval '1 millisecond'
     from unnest($1::uuid[], $2::int[], $3::int[]) as x(id, attempt, series)
     where jobs.id = any($1::uuid[]) and jobs.id = x.id and jobs.state = 'RUNNING' and jobs.attempts = x.attempt
       and jobs.series = x.series
     returning jobs.id, jobs.cancel_requested as "cancelRequested"`,
    [ids, ids.map((id) => fenceOf.get(id)!.attempt), ids.map((id) => fenceOf.get(id)!.series), leaseMs] as never[],
  );
  const found = new Map(rows.map((r) => [r.id, { cancelRequested: r.cancelRequested }]));
  return leases.map((l) => found.get(l.id) ?? null);
}

/**
 * A published outbox entry: `seq` is the job message's stream sequence (null for other streams' messages);
 * a notification delivery's message has its delivery, message number and sequence in `delivery` instead.
 */
export interface PublishedEntry {
  id: number;
  seq: number | null;
  delivery?: DeliveryMessage & { seq: number };
}

/**
 * A FROM item for statements whose loss in a PostgreSQL crash costs nothing but work redone: their commit
 * does not wait for the WAL to reach the disk (`synchronous_commit = off`, for that transaction only), so
 * they do not queue in front of the commits that must be durable (submits, claims, outcomes). WAL is
 * sequential, so the next durable commit makes them durable too.
 */
const NO_FLUSH_WAIT = `(select set_config('synchronous_commit', 'off', true)) as no_flush_wait`;

const MARK_PUBLISHED = `update outbox set published_at = now(), stream_seq = a.seq
  from unnest($1::bigint[], $2::bigint[]) as a(id, seq), ${NO_FLUSH_WAIT}
  where outbox.id = a.id and published_at is null`;

/**
 * Records entries as published, with their stream sequences. (The job row is not written again: its claim
 * records the sequence there; until then the reconciler and the dead-letter component read it here.) A
 * notification delivery's sequence goes on the delivery, if that message is still its latest (the
 * reconciler checks it there). Not waited for on disk (NO_FLUSH_WAIT): if a crash loses it, the relay
 * publishes the entries again (JetStream drops the repeat inside the duplicate window and answers with the
 * first one's sequence; the claim guard outside it).
 */
export async function markPublished(sql: Sql, acks: PublishedEntry[]): Promise<void> {
  if (!acks.length) return;
  const params = [acks.map((a) => a.id), acks.map((a) => a.seq)];
  const ds = acks.flatMap((a) => (a.delivery ? [a.delivery] : []));
  if (!ds.length) return void (await sql.unsafe(MARK_PUBLISHED, params as never));
  await sql.unsafe(
    `with n as (
       update notification_deliveries d set msg_seq = n.seq
       from unnest($3::uuid[], $4::int[], $5::bigint[]) as n(id, requeue, seq)
       where d.id = n.id and d.requeues = n.requeue
     ) ${MARK_PUBLISHED}`,
    [...params, ds.map((d) => d.id), ds.map((d) => d.requeue), ds.map((d) => d.seq)] as never,
  );
}

/**
 * Locks up to `limit` unpublished outbox entries older than `minAgeMs` (so entries the submitting process is
 * publishing right now are left to it), or of any age on `anyAgeSubject` (entries nobody publishes at once:
 * notification deliveries, written by a terminal transition), and runs `publish` with them inside the
 * transaction; several relays skip each other's rows.
 */
export async function withUnpublished(
  sql: Sql,
  a: { limit: number; minAgeMs: number; anyAgeSubject: string },
  publish: (entries: OutboxEntry[]) => Promise<PublishedEntry[]>,
): Promise<number> {
  return sql.begin(async (raw) => {
    const tx = preparing(raw);
    const rows = await tx.unsafe<(OutboxEntry & { id: string })[]>(
      `select id, job_id as "jobId", subject, msg_id as "msgId", body, traceparent from outbox
       where published_at is null and (created_at < now() - $1 * interval '1 millisecond' or subject = $3)
       order by id limit $2 for update skip locked`,
      [a.minAgeMs, a.limit, a.anyAgeSubject],
    );
    if (!rows.length) return 0;
    const acks = await publish(rows.map((r) => ({ ...r, id: Number(r.id) })));
    await markPublished(tx as unknown as Sql, acks);
    return acks.length;
  });
}

/**
 * Deletes published outbox entries older than `olderThanMs`, except those of waiting jobs whose message no
 * claim has recorded yet (`msg_seq` null): their entry holds the stream sequence the reconciler checks. Not
 * waited for on disk (NO_FLUSH_WAIT): a purge a crash loses is done again.
 */
export async function purgePublished(sql: Sql, olderThanMs: number): Promise<void> {
  await sql.unsafe(
    `delete from outbox o using ${NO_FLUSH_WAIT} where published_at < now() - $1 * interval '1 millisecond'
       and not exists (select 1 from jobs j where j.id = o.job_id and j.msg_seq is null and j.state in ('QUEUED', 'RETRYING'))`,
    [olderThanMs],
  );
}

/** Count and age of the outbox backlog. */
export async function outboxBacklog(sql: Sql): Promise<{ count: number; oldestAgeMs: number }> {
  const [row] = await sql<{ count: number; oldestAgeMs: number | null }[]>`
    select count(*)::int as count, (extract(epoch from now() - min(created_at)) * 1000)::float8 as "oldestAgeMs"
    from outbox where published_at is null`;
  return { count: row?.count ?? 0, oldestAgeMs: row?.oldestAgeMs ?? 0 };
}

/**
 * Jobs the reconciler should look at, oldest first, after `after` (a pass's cursor): QUEUED or RETRYING (past
 * due) untouched for `staleMs`, and RUNNING with a lease expired for `staleMs`. `messageSeq` is the stream
 * sequence of the job's current message, if known: recorded by its claim, or (not claimed since it was
 * published) on its outbox entry.
 */
export async function findStaleJobs(
  sql: Sql,
  staleMs: number,
  limit: number,
  after: StaleCursor | null = null,
): Promise<(JobRow & StaleCursor & { messageSeq: number | null })[]> {
  return sql.unsafe<(JobRow & StaleCursor & { messageSeq: number | null })[]>(
    `select ${JOB_COLUMNS}, updated_at::text as "cursorAt",
       coalesce(msg_seq, (select max(o.stream_seq) from outbox o where o.job_id = jobs.id))::float8 as "messageSeq"
     from jobs
     where state in ('QUEUED', 'RETRYING', 'RUNNING')
       and updated_at < now() - $1 * interval '1 millisecond'
       and (state <> 'RETRYING' or next_attempt_at < now() - $1 * interval '1 millisecond')
       and (state <> 'RUNNING' or lease_until < now() - $1 * interval '1 millisecond')
       and not exists (select 1 from outbox o where o.job_id = jobs.id and o.published_at is null)
       and ($3::text is null or (updated_at, id) > ($3::text::timestamptz, $4::uuid))
     order by updated_at, id limit $2`,
    [staleMs, limit, after?.cursorAt ?? null, after?.id ?? null] as never[],
  );
}

/**
 * Where a reconciler pass left off (the last row it looked at), so that the next one goes on from there:
 * its `updated_at` as PostgreSQL's text, to the microsecond, and passed back as text (a Date, or postgres.js
 * serialising a timestamptz parameter, cuts it to the millisecond, and the rows of one statement share it).
 */
export interface StaleCursor {
  cursorAt: string;
  id: string;
}

/**
 * Queues a fresh message for a job whose message was lost (reconciler); returns the outbox entry. The job's
 * `updated_at` stays: a QUEUED job's is when it was queued (queueStats' oldest queued age), and the next
 * reconciler pass finds the new message by its outbox entry and leaves the job alone.
 */
export async function requeueMessage(sql: Sql, job: JobRow, subject: string): Promise<OutboxEntry> {
  const msgId = `${job.id}:${job.series}:${Date.now()}`;
  const body = { id: job.id, type: job.type, series: job.series };
  const [o] = await sql.unsafe<{ id: string }[]>(
    `with t as (update jobs set msg_seq = null where id = $1)
     insert into outbox (job_id, subject, msg_id, body, traceparent) values ($1, $2, $3, $4::text::jsonb, $5) returning id`,
    [job.id, subject, msgId, JSON.stringify(body), job.traceparent],
  );
  return { id: Number(o!.id), jobId: job.id, subject, msgId, body, traceparent: job.traceparent };
}

/**
 * Records that a FAILED job's message sits in the dead-letter stream at `dlqSeq` (idempotent). Null when the
 * job is not FAILED in that attempt series any more (replayed by `retryJob` since the copy was made).
 */
export async function recordDeadLetter(sql: Sql, a: { id: string; series: number; dlqSeq: number }): Promise<JobRow | null> {
  const [row] = await sql.unsafe<JobRow[]>(
    `update jobs set dead_lettered_at = coalesce(dead_lettered_at, now()), dead_letter_seq = $2
     where id = $1 and state = 'FAILED' and series = $3 returning ${JOB_COLUMNS}`,
    [a.id, a.dlqSeq, a.series],
  );
  return row ?? null;
}

/**
 * A job whose message is at this stream sequence, recorded by its claim or by its publish: for a max-deliveries
 * advisory whose message is gone already (rare). No index serves it (one would cost every claim): it reads
 * the table.
 */
export async function findJobByMsgSeq(sql: Sql, msgSeq: number): Promise<JobRow | null> {
  const [row] = await sql.unsafe<JobRow[]>(
    `select ${JOB_COLUMNS} from jobs
     where msg_seq = $1 or (msg_seq is null and id in (select job_id from outbox where stream_seq = $1))
     limit 1`,
    [msgSeq],
  );
  return row ?? null;
}

/**
 * RUNNING jobs out of attempts whose lease expired `graceMs` ago: their worker died on the last attempt and,
 * on nats-server 2.9, no MAX_DELIVERIES advisory comes while no worker pulls. The dead-letter sweep takes them.
 */
export async function findAbandonedJobs(sql: Sql, graceMs: number, limit: number): Promise<JobRow[]> {
  return sql.unsafe<JobRow[]>(
    `select ${JOB_COLUMNS} from jobs
     where state = 'RUNNING' and attempts >= max_attempts and lease_until < now() - $1 * interval '1 millisecond'
     order by lease_until limit $2`,
    [graceMs, limit],
  );
}

export type InsertResult = Awaited<ReturnType<typeof insertJobs>>;

/**
 * Group commit for submits (`groupCommit`): concurrent submits are inserted together, in one statement and
 * one commit. Each caller gets back its own jobs: those it inserted, and the existing ones its idempotency
 * keys matched.
 */
export function createJobInserter(sql: Sql, maxRows = 1000): (jobs: NewJob[]) => Promise<InsertResult> {
  const keyOf = (owner: string, key: string | null) => `${owner}\u0000${key}`;
  return groupCommit(
    async (calls: NewJob[][]) => {
      const r = await insertJobs(sql, calls.flat());
      return calls.map((jobs) => {
        const ids = new Set(jobs.map((j) => j.id));
        const keys = new Set(jobs.filter((j) => j.idempotencyKey !== null).map((j) => keyOf(j.owner, j.idempotencyKey)));
        return {
          inserted: r.inserted.filter((x) => ids.has(x.job.id)),
          existing: r.existing.filter((j) => keys.has(keyOf(j.owner, j.idempotencyKey))),
        };
      });
    },
    { maxSize: maxRows, sizeOf: (jobs) => jobs.length },
  );
}
