/**
 * The guarded state changes of jobs: claim, success, retry, failure, hand back (and, built on the same
 * `transition()`, cancel in cancel.ts, replay in replay.ts and reschedule in reschedule.ts). Each is a fixed
 * `Transition` that goes through `transition()` (transition.ts): one guarded statement per batch, the history
 * rows written in the same statement; a job it does not return gets `null`, and its caller decides.
 */
import type { Sql } from './client.js';
import type { JobRow } from './schema.js';
import type { HandBack } from '../jobs/outcome.js';
import type { JobState } from '../jobs/state.js';
import { JOB_COLUMNS } from './jobs.js';
import { first, transition, type ChangedUpdate, type Fence, type Transition, type TransitionRow, type UpdateOnlyTransition } from './transition.js';

/** Live-progress seqs a claim reserves. */
export const SEQ_RESERVE = 1000;

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
  // No attempt (the first, a retry, or one after a lost worker) starts once its `start_by` has passed: the job
  // expires instead (db/expiry.ts); null for a job without one, the most, which the condition costs nothing.
  where: `jobs.series = x.series and not cancel_requested and attempts < max_attempts
      and (start_by is null or start_by > now())
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

const SUCCEED = {
  to: 'SUCCEEDED',
  fenced: true,
  onlyUpdate: true,
  set: `result = x.result, error = null, progress = 100, progress_message = x.progress_message, finished_at = now(), lease_until = null`,
  columns: { result: 'jsonb', progress_message: 'text' },
} as const satisfies UpdateOnlyTransition;

/** SUCCEEDED, for the attempts whose fence holds; the jobs come back as their updates read them (`ChangedUpdate`). */
export function markSucceededMany(sql: Sql, done: readonly Success[]): Promise<(ChangedUpdate | null)[]> {
  return transition(
    sql,
    SUCCEED,
    done.map((d) => ({ id: d.id, attempt: d.attempt, series: d.series, token: d.token, lastSeq: d.lastSeq, result: d.result ?? null, progress_message: d.progressMessage })),
  );
}

export const markSucceeded = (sql: Sql, a: Success): Promise<ChangedUpdate | null> => first(markSucceededMany(sql, [a]));

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
  // `lease_until` kept: the end of the last lease (the dead-letter recorder's advisory window, job-tables.ts).
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

/**
 * The job as the dead-letter component read it: the attempt and series it was in, and its state then. A write
 * fenced so applies only to the job still in that state: a worker's retry keeps the attempt's number (RUNNING →
 * RETRYING), so the attempt alone would let a failure decided on the RUNNING row end the retried job.
 */
export interface AsRead extends Fence {
  readState: JobState;
}
export const fenceAsRead = (job: Pick<JobRow, 'attempts' | 'series' | 'state'>): AsRead => ({ attempt: job.attempts, series: job.series, readState: job.state });

/** The condition and input column of a write fenced as read (`fenceAsRead`; its row's `read_state`). */
export const STILL_AS_READ = `jobs.state::text = x.read_state`;
export const AS_READ_COLUMNS = { read_state: 'text' };
/** A transition's row for a job as read. */
export const asReadRow = (a: AsRead & { id: string }): TransitionRow => ({ id: a.id, attempt: a.attempt, series: a.series, read_state: a.readState });

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
  where: `${NOT_HELD} and ${STILL_AS_READ}`,
  columns: { dlq_seq: 'bigint', ...AS_READ_COLUMNS },
};

/**
 * FAILED: a worker's permanent or last failed attempt (its fence and `lastSeq`), or any job (no fence).
 * `report` (a worker's): its attempt's last progress report. A worker's: null also when a cancel was asked for.
 */
export function markFailed(
  sql: Sql,
  a: MaybeFenced & { id: string; error: string; lastSeq?: number; attemptFailed: boolean; report?: ProgressReport | null },
) {
  const row: TransitionRow = { id: a.id, kind: a.attemptFailed ? 'error' : 'state', message: a.error };
  if (a.lastSeq !== undefined) row.lastSeq = a.lastSeq;
  if (a.attempt === undefined) return first(transition(sql, FAIL_JOB, [row]));
  return first(transition(sql, FAIL_ATTEMPT, [{ ...row, attempt: a.attempt, series: a.series, token: a.token, ...lastReport(a.report) }]));
}

/**
 * FAILED by the dead-letter component, which found a job whose deliveries ran out or whose worker was lost
 * (`fenceAsRead`: a job replayed, claimed again or retried by its worker since the read is left alone), with
 * its copy, already in the dead-letter stream at `deadLetterSeq`, recorded in the same statement, so that no
 * crash can leave the job FAILED and unlisted. `attemptFailed`: read RUNNING, its attempt ended with `error`.
 */
export function markDeadLettered(sql: Sql, a: AsRead & { id: string; error: string; attemptFailed: boolean; deadLetterSeq: number }) {
  return first(transition(sql, FAIL_COPIED, [{ ...asReadRow(a), kind: a.attemptFailed ? 'error' : 'state', message: a.error, dlq_seq: a.deadLetterSeq }]));
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
