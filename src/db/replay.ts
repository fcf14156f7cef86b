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

/**
 * Up to `limit` FAILED jobs that match, those that failed first first (then by id), locked; rows another
 * transaction holds are skipped (a concurrent replay's, a retention pass's: once it commits they no longer
 * match). The FAILED jobs are in `jobs_state_updated`.
 */
export async function lockFailedJobs(tx: Sql, f: FailedJobFilter, limit: number): Promise<ReplayCandidate[]> {
  return tx.unsafe<ReplayCandidate[]>(
    `select ${CANDIDATE_COLUMNS} from jobs
     where state = 'FAILED' and type = any($1::text[]) and ($2::text is null or owner = $2)
       and ($3::timestamptz is null or finished_at >= $3) and finished_at < $4::timestamptz
       and ($5::boolean is false or dead_lettered_at is not null)
     order by finished_at, id limit $6 for update skip locked`,
    [f.types as never, f.owner, f.failedAfter, f.failedBefore, f.onlyDeadLettered, limit],
  );
}

/** Now, by PostgreSQL's clock (the one `finished_at` is written by), to the millisecond a DateTime carries. */
export async function databaseNow(tx: Sql): Promise<Date> {
  const [row] = await tx.unsafe<{ now: Date }[]>(`select date_trunc('milliseconds', clock_timestamp()) as now`);
  return row!.now;
}
