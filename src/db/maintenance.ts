/**
 * Planner statistics for the hot tables. Every statement here is prepared, and a prepared statement keeps
 * its generic plan until the table's statistics change. A plan made while `jobs` was nearly empty looks jobs
 * up with a sequential scan; kept while the table grows, each claim batch would read the whole table.
 * Autovacuum's ANALYZE normally refreshes the statistics (and so the plans), but it runs late or not at all
 * (`autovacuum = off`, as on the project's machines). So the API's relay loop calls `analyzeIfGrown()`:
 * ANALYZE on a hot table once it has grown to over twice its size at its last ANALYZE (plus 500 rows).
 * Growth is what turns a cached plan bad; updates are not counted (a job's claim and outcome are two, and
 * counting them had a 20,000-job table analyzed every second while jobs ran: a fifth of PostgreSQL's CPU).
 */
import type { Sql } from './client.js';

const HOT_TABLES = ['jobs', 'outbox', 'job_events'];

/** Analyzes the hot tables that grew enough; returns their names. */
export async function analyzeIfGrown(sql: Sql): Promise<string[]> {
  // pg_class.reltuples: the row count the last ANALYZE (or VACUUM) saw; -1 before the first.
  const stale = await sql.unsafe<{ relname: string }[]>(
    `select s.relname from pg_stat_user_tables s join pg_class c on c.oid = s.relid
     where s.schemaname = current_schema() and s.relname = any($1::text[])
       and s.n_live_tup > 500 + 2 * greatest(c.reltuples, 0)`,
    [HOT_TABLES] as never,
  );
  for (const { relname } of stale) await sql.unsafe(`analyze ${relname}`);
  return stale.map((r) => r.relname);
}
