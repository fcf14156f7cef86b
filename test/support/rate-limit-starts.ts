/**
 * Starts of rate-limited jobs as PostgreSQL recorded them (`started_at`), for tests that check a limit held.
 */
import type { Sql } from '../../src/db/client.js';

/** The clock's own slack: statements of the same instant need not read the same microsecond. */
export const SLACK_MS = 50;

/**
 * The jobs among `ids` that started sooner than the bucket allows: the i-th start (i from 0) comes
 * (i - burst + 1) emission intervals after the first submit at the soonest. A lower bound: a slow machine
 * only starts them later.
 */
export async function tooEarly(sql: Sql, ids: string[], limit: { max: number; perMs: number; burst: number }) {
  const interval = limit.perMs / limit.max;
  const [first] = await sql<{ submitted: Date }[]>`select min(created_at) as submitted from jobs where id = any(${ids}::uuid[])`;
  const starts = (await sql<{ at: Date }[]>`select started_at as at from jobs where id = any(${ids}::uuid[]) order by started_at`).map((r) => r.at.getTime());
  return starts
    .map((at, i) => ({ i, afterSubmitMs: at - first!.submitted.getTime(), soonestMs: (i - limit.burst + 1) * interval - SLACK_MS }))
    .filter((s) => s.afterSubmitMs < s.soonestMs);
}

/** How many of the jobs are in each state. */
export const jobStates = async (sql: Sql, ids: string[]): Promise<Record<string, number>> =>
  Object.fromEntries(
    (await sql<{ state: string; n: number }[]>`select state, count(*)::int as n from jobs where id = any(${ids}::uuid[]) group by state`).map((r) => [r.state, r.n]),
  );
