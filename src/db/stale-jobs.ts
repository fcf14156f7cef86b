/**
 * The reconciler's statements about jobs: the jobs whose message may be lost (waiting or held past their
 * time, with no unpublished outbox entry), read a page at a time, and a fresh message for such a job.
 */
import type { Sql } from './client.js';
import type { JobRow } from './schema.js';
import { JOB_COLUMNS } from './jobs.js';
import { isJobMessage, type OutboxEntry } from './outbox.js';

/**
 * Jobs the reconciler should look at, oldest first, after `after` (a pass's cursor): QUEUED or RETRYING (past
 * due) untouched for `staleMs`, and RUNNING with a lease expired for `staleMs`. A scheduled job is not one of
 * them until `staleMs` after its `runAt`: before then its message is absent on purpose (its outbox entry waits). `messageSeq` is the stream
 * sequence of the job's current message, if known: recorded by its claim, or (not claimed since it was
 * published) on its newest published outbox entry. Not the highest sequence: in a stream made again, which
 * numbers from 1, a fresh message's is lower than the lost one's, and the job looked lost again at every pass.
 */
export async function findStaleJobs(
  sql: Sql,
  staleMs: number,
  limit: number,
  after: StaleCursor | null = null,
): Promise<(JobRow & StaleCursor & { messageSeq: number | null })[]> {
  return sql.unsafe<(JobRow & StaleCursor & { messageSeq: number | null })[]>(
    `select ${JOB_COLUMNS}, updated_at::text as "cursorAt",
       coalesce(msg_seq, (select o.stream_seq from outbox o where o.job_id = jobs.id and ${isJobMessage('o')} and o.stream_seq is not null
                          order by o.id desc limit 1))::float8 as "messageSeq"
     from jobs
     where state in ('QUEUED', 'RETRYING', 'RUNNING')
       and updated_at < now() - $1 * interval '1 millisecond'
       and (state <> 'RETRYING' or next_attempt_at < now() - $1 * interval '1 millisecond')
       and (state <> 'RUNNING' or lease_until < now() - $1 * interval '1 millisecond')
       and (run_at is null or run_at < now() - $1 * interval '1 millisecond')
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
 * Queues a fresh message for a job whose message was lost (reconciler), or held back past the time
 * `rescheduleJob` moved it to (`msgId` its own, `notBefore` the new time); returns the outbox entry. `msg_seq`
 * is cleared, so the reconciler checks the new message. The job's `updated_at` stays: a QUEUED job's is when
 * it was queued (queueStats' oldest queued age), and the next reconciler pass finds the new message by its
 * outbox entry and leaves the job alone.
 */
export async function requeueMessage(
  sql: Sql,
  job: JobRow,
  subject: string,
  o: { msgId?: string; notBefore?: Date | null } = {},
): Promise<OutboxEntry> {
  const msgId = o.msgId ?? `${job.id}:${job.series}:${Date.now()}`;
  const notBefore = o.notBefore ?? null;
  const body = { id: job.id, type: job.type, series: job.series };
  const [row] = await sql.unsafe<{ id: string }[]>(
    `with t as (update jobs set msg_seq = null where id = $1)
     insert into outbox (job_id, subject, msg_id, body, traceparent, not_before) values ($1, $2, $3, $4::text::jsonb, $5, $6) returning id`,
    [job.id, subject, msgId, JSON.stringify(body), job.traceparent, notBefore?.toISOString() ?? null],
  );
  return { id: Number(row!.id), jobId: job.id, subject, msgId, body, traceparent: job.traceparent, notBefore };
}
