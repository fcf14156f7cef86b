/**
 * Database-side counts over a phase: commits (pg_stat_database.xact_commit of the bench database) and, when
 * the server preloads pg_stat_statements, the statements by calls. Backends flush their statistics within
 * about a second of going idle, so `read()` waits 1.1 s first. The bench's own polling (a few queries a
 * second) is included; it is well under 1 % of a throughput phase's commits.
 */
import type postgres from 'postgres';
import { sleepMs } from './stats.js';

/** Creates the extension in the bench database; false when the server does not preload it. */
export async function enableStatements(sql: postgres.Sql): Promise<boolean> {
  try {
    await sql`create extension if not exists pg_stat_statements`;
    await sql`select 1 from pg_stat_statements limit 1`;
    return true;
  } catch {
    return false;
  }
}

async function commits(sql: postgres.Sql): Promise<number> {
  const [r] = await sql<{ c: string }[]>`select xact_commit as c from pg_stat_database where datname = current_database()`;
  return Number(r!.c);
}

export interface DbCounts {
  commits_per_job: number;
  /** Top statements by calls (pg_stat_statements only). */
  statements?: { calls_per_job: number; mean_ms: number; total_ms: number; query: string }[];
}

/** Marks the start of a phase; `read(n)` returns per-job counts since. */
export async function markDb(sql: postgres.Sql, withStatements: boolean) {
  await sleepMs(1100);
  const c0 = await commits(sql);
  if (withStatements) await sql`select pg_stat_statements_reset()`;
  return {
    async read(n: number): Promise<DbCounts> {
      await sleepMs(1100);
      const out: DbCounts = { commits_per_job: Math.round(((await commits(sql)) - c0) / n * 100) / 100 };
      if (withStatements) {
        const rows = await sql<{ calls: string; total: number; mean: number; query: string }[]>`
          select calls, total_exec_time as total, mean_exec_time as mean, query from pg_stat_statements
          where dbid = (select oid from pg_database where datname = current_database()) order by calls desc limit 12`;
        out.statements = rows.map((r) => ({
          calls_per_job: Math.round((Number(r.calls) / n) * 100) / 100,
          mean_ms: Math.round(r.mean * 1000) / 1000,
          total_ms: Math.round(r.total),
          query: r.query.replace(/\s+/g, ' ').slice(0, 160),
        }));
      }
      return out;
    },
  };
}
