/**
 * Reads of a job's recorded history for `jobProgress`: the job with the start of its history in one
 * statement when a subscription opens (`getJobOpening`), and many jobs' history at once for subscriptions
 * that resynchronise from PostgreSQL (the API's NATS connection came back, or a subscriber's inbox
 * overflowed): one statement for all the reads that wait together (`groupCommit`), instead of one query per
 * subscription, so that thousands of subscriptions resyncing at once take one connection of the pool, not
 * all of them.
 */
import type { Sql } from './client.js';
import { groupCommit } from './group-commit.js';
import { EVENT_COLUMNS, JOB_COLUMNS } from './jobs.js';
import type { JobEventRow, JobRow } from './schema.js';

/**
 * Most history rows one read answers (and `jobProgress` reads per statement when it replays a history): an
 * hour of progress milestones is about 14,000 rows, which neither the API's memory nor a socket should
 * take in one piece.
 */
export const HISTORY_PAGE = 1000;

/** A read: the job's recorded changes after `afterSeq`. */
export interface HistoryRead {
  jobId: string;
  afterSeq: number;
}

/**
 * What a read answers: the job's recorded changes after its seq, in seq order (the first `limit` of them),
 * and the job's state and seq now (null when the job is gone), both read in one snapshot.
 */
export interface HistoryAfter {
  events: JobEventRow[];
  job: Pick<JobRow, 'state' | 'seq'> | null;
  /** Whether more changes may follow `events` (the read stopped at its limit): read on after the last. */
  more: boolean;
}

/** What a `jobProgress` subscription starts from: its job, and the history rows it opens with. */
export interface JobOpening {
  job: JobRow;
  /** In seq order: with an `after`, the first HISTORY_PAGE rows after it; without, the row at the job's seq (if recorded). */
  events: JobEventRow[];
}

/**
 * The job, and in the same statement (one round trip, one snapshot) the history rows after `after` (the
 * first `limit`), or without `after` its history row at its seq: null when there is no such job.
 * The rows come as one JSON array, so that the job's columns (its payload) are not repeated on each.
 */
export async function getJobOpening(sql: Sql, jobId: string, after: number | null, limit = HISTORY_PAGE): Promise<JobOpening | null> {
  const [row] = await sql.unsafe<(JobRow & { events: (Omit<JobEventRow, 'at'> & { at: string })[] })[]>(
    `select ${JOB_COLUMNS},
       (select coalesce(json_agg(e order by e.seq), '[]') from (
          select ${EVENT_COLUMNS} from job_history where job_id = jobs.id and seq > coalesce($2::int, jobs.seq - 1)
          order by seq limit $3
        ) e) as events
     from jobs where id = $1`,
    [jobId, after as never, (after === null ? 1 : limit) as never],
  );
  if (!row) return null;
  const { events, ...job } = row;
  // JSON carries `at` as text, to the microsecond; a Date keeps its milliseconds, as from a timestamptz column.
  return { job, events: events.map((e) => ({ ...e, at: new Date(e.at) })) };
}

type Row = Omit<JobEventRow, 'seq'> & { seq: number | null; jobState: JobRow['state'] | null; jobSeq: number | null };

/**
 * The reads in one statement (`unnest` of ids and seqs, each job's history through an index scan, at most
 * `limit` rows a job). Reads of the same job share its rows: the job is read once, after the lowest of
 * their seqs (so a read at a higher seq may get fewer than `limit` rows and still `more`).
 */
export async function getEventsMany(sql: Sql, reads: readonly HistoryRead[], limit = HISTORY_PAGE): Promise<HistoryAfter[]> {
  if (!reads.length) return [];
  const from = new Map<string, number>();
  for (const r of reads) {
    const id = r.jobId.toLowerCase();
    from.set(id, Math.min(r.afterSeq, from.get(id) ?? r.afterSeq));
  }
  const ids = [...from.keys()];
  const rows = await sql.unsafe<Row[]>(
    `select x.id as "jobId", j.state as "jobState", j.seq as "jobSeq",
       h.seq, h.kind, h.state, h.progress, h.message, h.attempt, h.result, h.error, h.at
     from unnest($1::uuid[], $2::int[]) as x(id, after_seq)
     left join jobs j on j.id = x.id
     left join lateral (
       select * from job_history where job_id = x.id and seq > x.after_seq order by seq limit $3
     ) h on true
     order by x.id, h.seq`,
    [ids, ids.map((id) => from.get(id)!), limit] as never[],
  );
  const byJob = new Map<string, HistoryAfter>();
  for (const r of rows) {
    let found = byJob.get(r.jobId);
    if (!found) {
      found = { events: [], job: r.jobState === null ? null : { state: r.jobState, seq: r.jobSeq! }, more: false };
      byJob.set(r.jobId, found);
    }
    if (r.seq === null) continue; // no change after the seq asked for
    const { jobId, seq, kind, state, progress, message, attempt, result, error, at } = r;
    found.events.push({ jobId, seq, kind, state, progress, message, attempt, result, error, at });
    if (found.events.length === limit) found.more = true;
  }
  return reads.map((r) => {
    const found = byJob.get(r.jobId.toLowerCase())!;
    return { events: found.events.filter((e) => e.seq > r.afterSeq), job: found.job, more: found.more };
  });
}

/**
 * Group commit for history reads (`groupCommit` with `gather`): the reads made in one burst (every
 * subscription told to resync by the same reconnect) go in one statement, up to `maxReads` a statement,
 * one statement at a time. Identical reads (subscriptions of one job at the same seq) waiting for the same
 * statement share it; one made once that statement has started waits for the next, so its answer is never
 * older than the call (its caller emptied its inbox of live updates just before).
 */
export function createHistoryReader(sql: Sql, maxReads = 500): (read: HistoryRead) => Promise<HistoryAfter> {
  const waiting = new Map<string, Promise<HistoryAfter>>();
  const keyOf = (r: HistoryRead) => `${r.jobId.toLowerCase()} ${r.afterSeq}`;
  const read = groupCommit(
    (reads: HistoryRead[]) => {
      for (const r of reads) waiting.delete(keyOf(r));
      return getEventsMany(sql, reads);
    },
    { maxSize: maxReads, gather: true },
  );
  return (r) => {
    const key = keyOf(r);
    let answer = waiting.get(key);
    if (!answer) {
      answer = read(r);
      waiting.set(key, answer);
    }
    return answer;
  };
}
