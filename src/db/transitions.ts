/**
 * The guarded state changes of jobs: claim, success, retry, failure, hand back (and, built on the same
 * `transition()`, cancel in cancel.ts, replay in replay.ts and reschedule in reschedule.ts). Each goes through
 * `transition()`: one guarded `UPDATE … FROM (the batch) WHERE state IN (allowed) [AND attempts = fence] RETURNING`, with the history rows written in the same statement; a batch is one job or many
 * (workers claim and complete in batches).
 * A job the statement does not return was not allowed to change (or the caller's attempt is stale): the
 * caller gets `null` for it and decides; nothing is ever overwritten silently.
 *
 * Seq numbers: `seq` is the job's last recorded change. A running attempt also publishes live progress that
 * is not recorded row by row; it takes seqs from a block reserved at claim (`seq_reserved`), so seqs stay
 * monotonic even when a worker dies with published but unrecorded progress (attempts.ts extends the block).
 */
import type { Sql } from './client.js';
import type { JobRow } from './schema.js';
import type { HandBack } from '../jobs/outcome.js';
import { ALLOWED_FROM, isTerminal, type JobState } from '../jobs/state.js';
import { JOB_COLUMNS, JOB_COLUMNS_NO_PAYLOAD } from './jobs.js';
import { NOTIFY_ON_TERMINAL_CTES } from './notifications.js';
import { observeTransition } from '../observability/metrics.js';

/** Live-progress seqs a claim reserves. */
export const SEQ_RESERVE = 1000;

/**
 * What a change says, decided once for its history row and its live update (updates.ts `updateFromJob`), in
 * the terms of the changed job row `j` (`x_message`: the change's own message, if it has one):
 * - `message`: the change's own ('replayed', 'rescheduled to …', 'handed back …', a failed attempt's error),
 *   else the state's: the error of a RETRYING or FAILED job, the last progress message otherwise (a
 *   SUCCEEDED or CANCELLED job keeps the step it ended on);
 * - `error`: the job's error, on RETRYING or FAILED.
 * `changeMessage` and `changeError` say the same of a job row in TypeScript.
 */
const CHANGE_MESSAGE = `coalesce(x_message, case when state in ('RETRYING', 'FAILED') then error else progress_message end)`;
const CHANGE_ERROR = `case when state in ('RETRYING', 'FAILED') then error end`;

/** A job as a transition answers it: with the change's own message when the change has one (see CHANGE_MESSAGE). */
export type ChangedJob = JobRow & { changeMessage?: string | null };

/** CHANGE_MESSAGE of a job row: the message of its latest change. */
export const changeMessage = (job: ChangedJob): string | null =>
  job.changeMessage ?? (job.state === 'RETRYING' || job.state === 'FAILED' ? job.error : job.progressMessage);

/** CHANGE_ERROR of a job row. */
export const changeError = (job: JobRow): string | null => (job.state === 'RETRYING' || job.state === 'FAILED' ? job.error : null);

/** One kind of guarded transition: a fixed statement, applied to a batch of jobs (rows). */
export interface Transition {
  to: JobState;
  /** The states it applies to, when not ALLOWED_FROM[to] (a reschedule: the state it keeps). */
  from?: readonly JobState[];
  /** Not a change the metrics count (a reschedule: no retry, no claim, no end). */
  unobserved?: boolean;
  /** Only the holder of the row's attempt (`attempt` of `series`, claimed with `token`) may write (a worker's fence). */
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
  /** The claim's token: for a fenced transition, the fence's (`Fence`); for a claim, the one it records. */
  token?: string | undefined;
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
export async function transition(sql: Sql, t: Transition, rows: readonly TransitionRow[]): Promise<(ChangedJob | null)[]> {
  if (!rows.length) return [];
  const extra = Object.entries(t.columns ?? {});
  // In id order, so concurrent batches (a worker's claims and completions) lock shared rows in one order
  // and cannot deadlock; `i` maps each row back to its caller.
  // A key left out is null in the statement (and 'state' for `kind`): less to encode and parse per row.
  const input = rows.map((r, i) => {
    const x: Record<string, unknown> = { i, id: r.id };
    if (r.attempt != null) x.attempt = r.attempt;
    if (r.series != null) x.series = r.series;
    if (r.token != null) x.token = r.token;
    if (r.lastSeq != null) x.last_seq = r.lastSeq;
    if (r.kind && r.kind !== 'state') x.kind = r.kind;
    if (r.message != null) x.message = r.message;
    for (const [name] of extra) if (r[name] != null) x[name] = r[name];
    return x;
  });
  input.sort((a, b) => (a.id === b.id ? 0 : (a.id as string) < (b.id as string) ? -1 : 1));
  // The change's own message comes back only when a row has one: a 29th property would make V8 build the
  // claims' and successes' rows as slow dictionaries (jobs.ts JOB_COLUMNS); without it, the row says it.
  const says = input.some((x) => x.message != null);
  const nextSeq = `coalesce(x.last_seq + 1, greatest(jobs.seq, jobs.seq_reserved) + 1)`;
  // Each job is looked up by id (`id = any($2)`), and the allowed-from check (`state::text`) cannot be
  // answered from the state indexes: with stale statistics (a busy queue outruns ANALYZE; autovacuum may be
  // off) the planner otherwise scans every active job's index entries, or the whole table, per batch.
  const found = await sql.unsafe<(ChangedJob & { i: number })[]>(
    `with x as (
       select * from jsonb_to_recordset($1::text::jsonb) as x(i int, id uuid, attempt int, series int, token uuid, last_seq int, kind text,
         message text${extra.map(([name, type]) => `, ${name} ${type}`).join('')})
     ), j as (
       update jobs set state = '${t.to}', updated_at = now(), seq = ${nextSeq},
         seq_reserved = ${nextSeq} + ${t.reserve ?? 0}
         ${t.set ? `, ${t.set}` : ''}
       from x
       where jobs.id = any($2::uuid[]) and jobs.id = x.id and jobs.state::text in (${(t.from ?? ALLOWED_FROM[t.to]).map((s) => `'${s}'`).join(',')})
         ${t.fenced ? `and ${FENCE_HOLDS}` : ''}${t.where ? ` and ${t.where}` : ''}
       returning jobs.*, x.i as x_i, coalesce(x.kind, 'state') as x_kind, x.message as x_message
     ), e as (
       insert into job_events (job_id, seq, kind, state, progress, message, attempt, result, error, at)
       select id, seq, x_kind, state, progress, ${CHANGE_MESSAGE}, attempts, result, ${CHANGE_ERROR}, updated_at from j
     )${isTerminal(t.to) ? NOTIFY_ON_TERMINAL_CTES : ''}
     select ${t.withoutPayload ? JOB_COLUMNS_NO_PAYLOAD : JOB_COLUMNS}, x_i as i${says ? ', x_message as "changeMessage"' : ''} from j`,
    [JSON.stringify(input), input.map((x) => x.id)] as never[],
  );
  const out: (ChangedJob | null)[] = rows.map(() => null);
  for (const { i, ...job } of found) {
    out[i] = job;
    if (!t.unobserved) observeTransition(job as JobRow);
  }
  return out;
}

export const first = async (rows: Promise<(ChangedJob | null)[]>): Promise<ChangedJob | null> => (await rows)[0] ?? null;

/** A delivered job to claim. */
export interface Claim {
  id: string;
  series: number;
  leaseMs: number;
  msgSeq: number;
  /** Chosen by the worker for this claim alone, to find it again (`claimedWith`); none: null. */
  token?: string;
}

const CLAIM: Transition = {
  to: 'RUNNING',
  set: `attempts = attempts + 1, started_at = now(), lease_until = now() + x.lease_ms * interval '1 millisecond',
      progress = 0, progress_message = null, next_attempt_at = null, msg_seq = x.msg_seq, claim_token = x.token`,
  reserve: SEQ_RESERVE,
  // A RETRYING job only once its next attempt is due: a message delivered early (its nak lost with the
  // RETRYING write's answer, so redelivered at AckWait) must not start the retry before `nextAttemptAt`.
  // A scheduled (or rescheduled) job only once its `runAt` has come: its message is published then, but one
  // published early (an API older than migration 0012 relays every waiting entry; a message already in the
  // stream when `rescheduleJob` moved the job later) must not start it before. A `retryJob` replay clears
  // `run_at`, so it runs at once.
  where: `jobs.series = x.series and not cancel_requested and attempts < max_attempts
      and (state <> 'RUNNING' or lease_until < now())
      and (state <> 'RETRYING' or next_attempt_at is null or next_attempt_at <= now())
      and (state <> 'QUEUED' or run_at is null or run_at <= now())`,
  columns: { lease_ms: 'int', msg_seq: 'bigint' },
};

/**
 * Workers claim delivered jobs: QUEUED, RETRYING whose next attempt is due (or RUNNING whose lease expired) →
 * RUNNING, attempts + 1. Null for a job another worker holds, that is finished, cancelled, from an older
 * series, out of attempts, or waiting for its next attempt.
 */
export function markRunningMany(sql: Sql, claims: readonly Claim[]): Promise<(JobRow | null)[]> {
  return transition(
    sql,
    CLAIM,
    claims.map((c) => ({ id: c.id, series: c.series, lease_ms: c.leaseMs, msg_seq: c.msgSeq, token: c.token })),
  );
}

export const markRunning = (sql: Sql, a: Claim): Promise<JobRow | null> => first(markRunningMany(sql, [a]));

/**
 * The job as the claim with `token` made it, if that claim still holds it (RUNNING, no claim since), with its
 * lease renewed: for a worker whose claim's answer was lost (the connection dropped after the commit), so
 * that its retried claim, refused by that very claim, does not leave the job to wait out a lease nobody
 * holds (an attempt used without running). Null when the claim never landed or the job moved on.
 */
export async function claimedWith(sql: Sql, a: Claim & { token: string }): Promise<JobRow | null> {
  const [row] = await sql.unsafe<JobRow[]>(
    `update jobs set lease_until = now() + $4 * interval '1 millisecond'
     where id = $1 and series = $2 and state = 'RUNNING' and claim_token = $3 returning ${JOB_COLUMNS}`,
    [a.id, a.series, a.token, a.leaseMs] as never[],
  );
  return row ?? null;
}

/**
 * The attempt a write is for: it applies only while the job is still in that attempt of that attempt series.
 * A worker's writes carry the attempt it claimed (a stalled worker's late write is refused once the job has
 * moved on); the dead-letter component's, the job as it read it. `retryJob` starts a new series with
 * attempts from 0, so without the series a stale attempt 1 would pass for the replay's attempt 1.
 * A worker's writes carry its claim's `token` too: a hand-back gives its attempt back (`attempts - 1`), so
 * the next claim holds the same attempt number again, and the handed-back worker's write (a retried
 * hand-back whose first answer was lost, a late lease renewal) would otherwise pass for the new holder's. The
 * dead-letter component does not know the claim (it fails or cancels only a job no live lease holds).
 */
export interface Fence {
  attempt: number;
  series: number;
  token?: string | undefined;
}

/** The fence's condition, on `jobs` and the write's row `x` (attempt, series, token: null for none). */
export const FENCE_HOLDS = `jobs.attempts = x.attempt and jobs.series = x.series and (x.token is null or jobs.claim_token = x.token)`;

/** The job's attempt is not held: not RUNNING, or its lease ran out (by PostgreSQL's clock). */
export const NOT_HELD = `(state <> 'RUNNING' or lease_until < now())`;

/** The last progress an attempt's handler reported: its throttled write may not have landed. */
export interface ProgressReport {
  progress: number;
  message: string | null;
}

/**
 * A failed attempt's outcome records its last report (`x.progress` null: it made none, and the job keeps
 * what it has), so the job shows the step that failed, not an earlier milestone.
 */
const LAST_REPORT = `progress = coalesce(x.progress, jobs.progress),
      progress_message = case when x.progress is null then jobs.progress_message else x.progress_message end`;
const LAST_REPORT_COLUMNS = { progress: 'real', progress_message: 'text' };
const lastReport = (r: ProgressReport | null | undefined) => ({ progress: r?.progress, progress_message: r?.message });

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
    done.map((d) => ({ id: d.id, attempt: d.attempt, series: d.series, token: d.token, lastSeq: d.lastSeq, result: d.result ?? null, progress_message: d.progressMessage })),
  );
}

export const markSucceeded = (sql: Sql, a: Success): Promise<JobRow | null> => first(markSucceededMany(sql, [a]));

/**
 * An attempt whose cancel was asked for is not retried, failed or handed back: its worker records CANCELLED
 * instead (the cancel came as the attempt ended, too late to abort it). Retried, it would wait out its backoff
 * and be cancelled only when its message came back; failed (its last attempt, a PermanentJobError), a job its
 * owner cancelled would be dead-lettered, with failure notifications.
 */
export const NOT_CANCELLING = 'not cancel_requested';

const RETRY: Transition = {
  to: 'RETRYING',
  fenced: true,
  // `lease_until` kept: the end of the last lease (the dead-letter recorder's advisory window, schema.ts).
  set: `error = x.message, next_attempt_at = now() + x.delay_ms * interval '1 millisecond', ${LAST_REPORT}`,
  where: NOT_CANCELLING,
  columns: { delay_ms: 'int', ...LAST_REPORT_COLUMNS },
};

/**
 * The attempt failed and another is due at `nextAttemptAt`; null also when a cancel was asked for. `report`:
 * the attempt's last progress report.
 */
export function markRetrying(sql: Sql, a: Fence & { id: string; lastSeq: number; error: string; delayMs: number; report?: ProgressReport | null }) {
  const row = { id: a.id, attempt: a.attempt, series: a.series, token: a.token, lastSeq: a.lastSeq, kind: 'error' as const, message: a.error, delay_ms: a.delayMs };
  return first(transition(sql, RETRY, [{ ...row, ...lastReport(a.report) }]));
}

/** The job as the dead-letter component read it: its fence is the attempt and series it was in. */
export const fenceAsRead = (job: { attempts: number; series: number }): Fence => ({ attempt: job.attempts, series: job.series });

/** Without a fence (neither `attempt` nor `series`): any job. */
export type MaybeFenced = Fence | { attempt?: undefined; series?: undefined };

const FAIL = `error = x.message, finished_at = now(), lease_until = null, next_attempt_at = null`;
const FAIL_ATTEMPT: Transition = { to: 'FAILED', fenced: true, set: `${FAIL}, ${LAST_REPORT}`, where: NOT_CANCELLING, columns: LAST_REPORT_COLUMNS };
const FAIL_JOB: Transition = { to: 'FAILED', set: FAIL };
/**
 * FAILED with its copy in the dead-letter stream recorded (recordDeadLetter's columns) in the same statement;
 * not while a live lease holds the job: fenced as read, it may have been handed back and claimed again since,
 * under the same attempt number (or its worker, cut off from PostgreSQL, renewed the lease once back).
 */
const FAIL_COPIED: Transition = {
  to: 'FAILED',
  fenced: true,
  set: `${FAIL}, dead_lettered_at = now(), dead_letter_seq = x.dlq_seq`,
  where: NOT_HELD,
  columns: { dlq_seq: 'bigint' },
};

/**
 * FAILED: a worker's permanent or last failed attempt (its fence and `lastSeq`), the dead-letter component
 * finding a job whose deliveries ran out (`fenceAsRead`, so a job replayed or claimed again since the read
 * is left alone), or any job (no fence). `deadLetterSeq` (fenced only): the job's copy, already in the
 * dead-letter stream, recorded with the state, so that no crash can leave the job FAILED and unlisted.
 * `report` (a worker's): its attempt's last progress report. A worker's (`lastSeq`, no `deadLetterSeq`): null
 * also when a cancel was asked for.
 */
export function markFailed(
  sql: Sql,
  a: MaybeFenced & { id: string; error: string; lastSeq?: number; attemptFailed: boolean; deadLetterSeq?: number; report?: ProgressReport | null },
) {
  const row: TransitionRow = { id: a.id, kind: a.attemptFailed ? 'error' : 'state', message: a.error };
  if (a.lastSeq !== undefined) row.lastSeq = a.lastSeq;
  if (a.attempt === undefined) return first(transition(sql, FAIL_JOB, [row]));
  const fenced = { ...row, attempt: a.attempt, series: a.series, token: a.token };
  if (a.deadLetterSeq === undefined) return first(transition(sql, FAIL_ATTEMPT, [{ ...fenced, ...lastReport(a.report) }]));
  return first(transition(sql, FAIL_COPIED, [{ ...fenced, dlq_seq: a.deadLetterSeq }]));
}

/** From RUNNING alone: QUEUED is also a replay's target, from FAILED (a job the sweep failed meanwhile stays so). */
const HAND_BACK: Transition = {
  to: 'QUEUED',
  from: ['RUNNING'],
  fenced: true,
  set: `attempts = attempts - 1, started_at = null, progress = 0, progress_message = null`, // `lease_until` kept, as RETRY's
  where: NOT_CANCELLING,
};

const HAND_BACK_MESSAGES: Record<HandBack, string> = {
  shutdown: 'handed back by a stopping worker',
  paused: 'handed back unstarted: its job type was paused',
};

/**
 * A worker hands its job back (stopping, or the type paused before the job started): RUNNING → QUEUED; the
 * attempt is not counted. Null also when a cancel was asked for.
 */
export function markQueuedAgain(sql: Sql, a: Fence & { id: string; lastSeq: number }, why: HandBack) {
  return first(transition(sql, HAND_BACK, [{ ...a, message: HAND_BACK_MESSAGES[why] }]));
}
