/**
 * The one statement behind every guarded state change of jobs (the named ones: transitions.ts, cancel.ts,
 * replay.ts, reschedule.ts). Each goes through `transition()`: one guarded `UPDATE … FROM (the batch) WHERE state IN (allowed) [AND attempts = fence] RETURNING`, with the history rows written in the same statement; a batch is one job or many
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
import { ALLOWED_FROM, isTerminal, type JobState } from '../jobs/state.js';
import { JOB_COLUMNS, UPDATE_COLUMNS, type UpdatedJob } from './jobs.js';
import { NOTIFY_ON_TERMINAL_CTES } from './notifications.js';
import { observeTransition } from '../observability/metrics.js';

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

/** A job as an `onlyUpdate` transition answers it: what its update says (UPDATE_COLUMNS), and the change's own message. */
export type ChangedUpdate = UpdatedJob & { changeMessage?: string | null };

/** CHANGE_MESSAGE of a job row: the message of its latest change. */
export const changeMessage = (job: ChangedUpdate): string | null =>
  job.changeMessage ?? (job.state === 'RETRYING' || job.state === 'FAILED' ? job.error : job.progressMessage);

/** CHANGE_ERROR of a job row. */
export const changeError = (job: UpdatedJob): string | null => (job.state === 'RETRYING' || job.state === 'FAILED' ? job.error : null);

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
}

/** A transition whose jobs come back with UPDATE_COLUMNS only (`ChangedUpdate`): its callers publish their updates and use no more. */
export type UpdateOnlyTransition = Transition & { onlyUpdate: true };

/** One job of a transition batch. */
export interface TransitionRow {
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
export async function transition(sql: Sql, t: UpdateOnlyTransition, rows: readonly TransitionRow[]): Promise<(ChangedUpdate | null)[]>;
export async function transition(sql: Sql, t: Transition, rows: readonly TransitionRow[]): Promise<(ChangedJob | null)[]>;
export async function transition(sql: Sql, t: Transition & { onlyUpdate?: true }, rows: readonly TransitionRow[]): Promise<(ChangedUpdate | null)[]> {
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
  const found = await sql.unsafe<(ChangedUpdate & { i: number })[]>(
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
     select ${t.onlyUpdate ? UPDATE_COLUMNS : JOB_COLUMNS}, x_i as i${says ? ', x_message as "changeMessage"' : ''} from j`,
    [JSON.stringify(input), input.map((x) => x.id)] as never[],
  );
  const out: (ChangedUpdate | null)[] = rows.map(() => null);
  for (const { i, ...job } of found) {
    out[i] = job;
    if (!t.unobserved) observeTransition(job);
  }
  return out;
}

export const first = async <J>(rows: Promise<(J | null)[]>): Promise<J | null> => (await rows)[0] ?? null;

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
