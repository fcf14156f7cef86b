/**
 * The dead-letter component's statements about jobs: recording a FAILED job's copy in the dead-letter
 * stream, finding the job of a max-deliveries advisory by its message's stream sequence, and the RUNNING
 * jobs abandoned on their last attempt. (Stale copies to delete: dead-letter-removals.ts.)
 */
import type { Sql } from './client.js';
import type { JobRow } from './schema.js';
import { JOB_COLUMNS } from './jobs.js';
import { isJobMessage } from './outbox.js';

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
 * advisory whose message is gone already (rare); `messageSeries` is the attempt series that message was for
 * (a claim records the current series' message; an outbox entry's body names its series: an entry of a series
 * a `retryJob` replay has ended is kept while the replay waits). No index serves it (one would cost every
 * claim): it reads the table.
 */
export async function findJobByMsgSeq(sql: Sql, msgSeq: number): Promise<(JobRow & { messageSeries: number | null }) | null> {
  const [row] = await sql.unsafe<(JobRow & { messageSeries: number | null })[]>(
    `select ${JOB_COLUMNS}, case when msg_seq = $1 then series else
       (select (o.body->>'series')::int from outbox o where o.job_id = jobs.id and o.stream_seq = $1 and ${isJobMessage('o')} limit 1) end as "messageSeries"
     from jobs
     where msg_seq = $1 or (msg_seq is null and id in (select o.job_id from outbox o where o.stream_seq = $1 and ${isJobMessage('o')}))
     limit 1`,
    [msgSeq],
  );
  return row ?? null;
}

/**
 * How long the lease of job `id` has left by PostgreSQL's clock, in ms: 0 when it ran out, or the job is not
 * RUNNING (a renewal by its worker moves it on; the app's clock may be off from the database's).
 */
export async function leaseLeftMs(sql: Sql, id: string): Promise<number> {
  const [row] = await sql.unsafe<{ ms: number }[]>(
    `select greatest(0, extract(epoch from (lease_until - now())) * 1000)::float8 as ms from jobs where id = $1 and state = 'RUNNING'`,
    [id],
  );
  return Math.ceil(row?.ms ?? 0);
}

/**
 * RUNNING jobs out of attempts whose lease expired `graceMs` ago, oldest lease first, but those in `skip`:
 * their worker died on the last attempt and, on nats-server 2.9, no MAX_DELIVERIES advisory comes while no
 * worker pulls. The dead-letter sweep takes them.
 */
export async function findAbandonedJobs(sql: Sql, graceMs: number, limit: number, skip: readonly string[] = []): Promise<JobRow[]> {
  return sql.unsafe<JobRow[]>(
    `select ${JOB_COLUMNS} from jobs
     where state = 'RUNNING' and attempts >= max_attempts and lease_until < now() - $1 * interval '1 millisecond'
       and id <> all($3::uuid[])
     order by lease_until limit $2`,
    [graceMs, limit, skip as never],
  );
}
