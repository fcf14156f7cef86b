/**
 * Read queries for the API: pages of jobs (keyset on (created_at, id) or (dead_lettered_at, id)), stats.
 */
import type { Sql } from './client.js';
import type { JobRow } from './schema.js';
import { JOB_COLUMNS } from './jobs.js';

/** Owner filter: null = every owner (admin). */
type Owner = string | null;

export interface DeadLetterPage {
  owner: Owner;
  type: string | null;
  first: number;
  /** Keyset position: rows strictly after it (newest first). */
  after: { at: Date; id: string } | null;
}

export async function listDeadLetters(sql: Sql, p: DeadLetterPage): Promise<{ rows: JobRow[]; total: number }> {
  const params: unknown[] = [p.owner, p.type];
  const base = `from jobs where dead_lettered_at is not null and ($1::text is null or owner = $1)
    and ($2::text is null or type = $2)`;
  const keyset = p.after
    ? ` and (dead_lettered_at, id) < ($${params.push(p.after.at)}::timestamptz, $${params.push(p.after.id)}::uuid)`
    : '';
  const [rows, [count]] = await Promise.all([
    sql.unsafe<JobRow[]>(
      `select ${JOB_COLUMNS} ${base}${keyset} order by dead_lettered_at desc, id desc limit $${params.push(p.first + 1)}`,
      params as never[],
    ),
    sql.unsafe<{ total: number }[]>(`select count(*)::int as total ${base}`, [p.owner, p.type]),
  ]);
  return { rows, total: count?.total ?? 0 };
}

export interface TypeCounts {
  type: string;
  queued: number;
  running: number;
  retrying: number;
  failed: number;
  deadLettered: number;
}

export async function countByType(sql: Sql, owner: Owner): Promise<TypeCounts[]> {
  return sql.unsafe<TypeCounts[]>(
    `select type,
       count(*) filter (where state = 'QUEUED')::int as queued,
       count(*) filter (where state = 'RUNNING')::int as running,
       count(*) filter (where state = 'RETRYING')::int as retrying,
       count(*) filter (where state = 'FAILED')::int as failed,
       count(*) filter (where dead_lettered_at is not null)::int as "deadLettered"
     from jobs where ($1::text is null or owner = $1) and state in ('QUEUED', 'RUNNING', 'RETRYING', 'FAILED')
     group by type`,
    [owner],
  );
}

export async function eventsOf(sql: Sql, jobIds: readonly string[]) {
  return sql.unsafe<
    { jobId: string; seq: number; kind: string; state: JobRow['state']; progress: number; message: string | null; attempt: number; error: string | null; at: Date }[]
  >(
    `select job_id as "jobId", seq, kind, state, progress, message, attempt, error, at from job_events
     where job_id = any($1::uuid[]) order by job_id, seq`,
    [jobIds as never],
  );
}
