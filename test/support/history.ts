/** Long job histories written straight into PostgreSQL, as a worker would have recorded them. */
import type { TestApp } from './app.js';
import { gql, SUBMIT } from './graphql.js';

/**
 * Submits a job (owned by the app's default key) and records its run: RUNNING, `milestones` progress rows
 * with messages of `messageChars` characters (the seq, padded with dots), and SUCCEEDED; `errorsAt` are
 * seqs among the milestones recorded as attempt errors instead. Answers the job's id and its last seq.
 */
export async function jobWithHistory(
  t: TestApp,
  milestones: number,
  messageChars: number,
  errorsAt: readonly number[] = [],
): Promise<{ id: string; last: number }> {
  const r = await gql(t.url, SUBMIT, { input: { type: 'demo.noop' } });
  const id: string = r.body.data.submitJob.job.id;
  const last = milestones + 3;
  await t.env.sql.begin(async (sql) => {
    await sql`insert into job_events (job_id, seq, kind, state, progress, attempt)
      values (${id}, 2, 'state', 'RUNNING', 0, 1)`;
    await sql`insert into job_events (job_id, seq, kind, state, progress, message, error, attempt)
      select ${id}, g, case when g = any(${errorsAt as number[]}::int[]) then 'error' else 'progress' end, 'RUNNING',
        (g - 2) * 100.0 / ${milestones + 1}, lpad(g::text, ${messageChars}, '.'),
        case when g = any(${errorsAt as number[]}::int[]) then 'failed at ' || g end, 1
      from generate_series(3, ${last - 1}) g`;
    await sql`insert into job_events (job_id, seq, kind, state, progress, attempt, result)
      values (${id}, ${last}, 'state', 'SUCCEEDED', 100, 1, '{"ok":true}')`;
    await sql`update jobs set state = 'SUCCEEDED', attempts = 1, progress = 100, seq = ${last}, seq_reserved = ${last},
      started_at = now(), finished_at = now(), result = '{"ok":true}' where id = ${id}`;
  });
  return { id, last };
}
