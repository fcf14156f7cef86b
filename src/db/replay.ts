/**
 * Choosing the FAILED jobs a replay (`retryJob`, `retryJobs`) takes, locked (`for update`) in the caller's
 * transaction until its replay commits: the replay itself is `replayFailedJobs` (transitions.ts).
 */
import type { Sql } from './client.js';
import type { JobState } from '../jobs/state.js';

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
