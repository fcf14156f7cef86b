/**
 * Planner statistics for the hot tables. Every statement here is prepared, and a prepared statement keeps
 * its generic plan until the table's statistics change. A plan made while `jobs` was nearly empty looks jobs
 * up with a sequential scan; kept while the table grows, each claim batch would read the whole table.
 * Autovacuum's ANALYZE normally refreshes the statistics (and so the plans), but it runs late or not at all
 * (`autovacuum = off`, as on the project's machines). So the API's relay loop calls `analyzeIfChanged()`:
 * ANALYZE on a hot table once a fifth of it (and at least 500 rows) changed since its last ANALYZE.
 */
import type { Sql } from './client.js';

const HOT_TABLES = ['jobs', 'outbox', 'job_events'];

/** Analyzes the hot tables that changed enough; returns their names. */
export async function analyzeIfChanged(sql: Sql): Promise<string[]> {
  const stale = await sql.unsafe<{ relname: string }[]>(
    `select relname from pg_stat_user_tables
     where schemaname = current_schema() and relname = any($1::text[])
       and n_mod_since_analyze > 500 + 0.2 * n_live_tup`,
    [HOT_TABLES] as never,
  );
  for (const { relname } of stale) await sql.unsafe(`analyze ${relname}`);
  return stale.map((r) => r.relname);
}
