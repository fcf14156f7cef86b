/**
 * Per job type, for `queueStats` and `jobUpdates`: how many jobs are in each state not done with, how many
 * finished in the last minute and how long the oldest has waited, and which types still have jobs left.
 */
import type { Sql } from './client.js';
import type { Owner } from './queries.js';
import { NOT_DONE_WITH } from './schema.js';

export interface TypeCounts {
  type: string;
  queued: number;
  /** Of `queued`, the jobs whose `runAt` has not come yet. */
  scheduled: number;
  running: number;
  retrying: number;
  failed: number;
  deadLettered: number;
}

export async function countByType(sql: Sql, owner: Owner): Promise<TypeCounts[]> {
  return sql.unsafe<TypeCounts[]>(
    `select type,
       count(*) filter (where state = 'QUEUED')::int as queued,
       count(*) filter (where state = 'QUEUED' and run_at > now())::int as scheduled,
       count(*) filter (where state = 'RUNNING')::int as running,
       count(*) filter (where state = 'RETRYING')::int as retrying,
       count(*) filter (where state = 'FAILED')::int as failed,
       count(*) filter (where dead_lettered_at is not null)::int as "deadLettered"
     from jobs where ($1::text is null or owner = $1) and ${NOT_DONE_WITH}
     group by type`,
    [owner],
  );
}

/**
 * Which of `types` have jobs not done with (QUEUED, RUNNING, RETRYING or FAILED: what `countByType` counts),
 * of `owner` (null: any owner): a type removed or renamed in a deploy whose jobs were left behind.
 */
export async function typesWithJobsLeft(sql: Sql, types: readonly string[], owner: Owner): Promise<string[]> {
  const rows = await sql.unsafe<{ type: string }[]>(
    `select t.type from unnest($1::text[]) as t(type)
     where exists (select 1 from jobs where jobs.type = t.type and ($2::text is null or owner = $2)
                   and ${NOT_DONE_WITH})`,
    [types as string[], owner],
  );
  return rows.map((r) => r.type);
}

export interface TypeRates {
  type: string;
  /** Jobs that reached a terminal state in the last 60 s. */
  finishedLastMinute: number;
  /**
   * Seconds the longest-waiting QUEUED job has been queued (since its submit, `retryJob` replay, `rescheduleJob`
   * or hand-back by a stopping worker: a QUEUED job's `updated_at`, see requeueMessage; a scheduled job since
   * its `runAt`, and not before it); null when none is.
   */
  oldestQueuedAgeSeconds: number | null;
}

/** Throughput and queue age per type (only types with a recent finish or a queued job appear). */
export async function ratesByType(sql: Sql, owner: Owner): Promise<TypeRates[]> {
  const params: unknown[] = [];
  const mine = owner === null ? '' : `and owner = $${params.push(owner)}`;
  return sql.unsafe<TypeRates[]>(
    `select type,
       count(*) filter (where finished_at >= now() - interval '1 minute')::int as "finishedLastMinute",
       extract(epoch from now() - min(greatest(updated_at, run_at)) filter (where state = 'QUEUED' and (run_at is null or run_at <= now())))::float8
         as "oldestQueuedAgeSeconds"
     from jobs
     where (finished_at >= now() - interval '1 minute' or state = 'QUEUED') ${mine}
     group by type`,
    params as never[],
  );
}
