/**
 * A retention batch deletes at most PURGE_BATCH_ROWS history rows (by the jobs' seqs), however few jobs that
 * is, but always one job: jobs with long histories (an hour of progress is about 14,000 rows) go a few per
 * transaction instead of a thousand in one that deletes millions of rows and holds its locks for minutes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PURGE_BATCH_ROWS, purgeExpiredJobs } from '../../src/jobs/retention.js';
import { countRows, startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

/** `n` SUCCEEDED jobs finished 40 days ago, each with `rows` history rows (seq 2..rows+1 stored; 1 derived). */
async function oldJobsWithHistory(n: number, rows: number): Promise<void> {
  await t.env.sql.unsafe(`
    with j as (
      insert into jobs (id, owner, type, state, payload, max_attempts, timeout_ms, attempts, seq, seq_reserved,
        created_at, updated_at, started_at, finished_at, progress)
      select gen_random_uuid(), 'o', 'demo.noop', 'SUCCEEDED', '{}', 1, 60000, 1, ${rows + 1}, ${rows + 1},
        now() - interval '40 days' - i * interval '1 second', now() - interval '40 days', now() - interval '40 days',
        now() - interval '40 days' + i * interval '1 second', 100
      from generate_series(1, ${n}) i
      returning id
    )
    insert into job_events (job_id, seq, kind, state, progress, attempt)
    select j.id, s + 1, 'progress', 'RUNNING', 0, 1 from j, generate_series(1, ${rows}) s`);
}

it('purges jobs whose histories add up to more than PURGE_BATCH_ROWS in several batches, one job at least each', async () => {
  const rows = Math.ceil(PURGE_BATCH_ROWS * 0.6);
  await oldJobsWithHistory(3, rows);
  expect(await countRows(t.env.sql, 'job_events')).toBe(3 * rows);
  let batches = 0;
  const r = await purgeExpiredJobs(t.app.deps, { SUCCEEDED: 86_400_000 }, Infinity, () => {
    batches++;
    return false;
  });
  expect(r).toMatchObject({ purged: 3, hasMore: false, stalled: false });
  expect(batches).toBe(3); // 0.6 + 0.6 passes the bound: one job a batch
  expect(await countRows(t.env.sql, 'jobs')).toBe(0);
  expect(await countRows(t.env.sql, 'job_events')).toBe(0);

  // Short histories still go a thousand a batch.
  await oldJobsWithHistory(1500, 3);
  batches = 0;
  expect(await purgeExpiredJobs(t.app.deps, { SUCCEEDED: 86_400_000 }, Infinity, () => (batches++, false))).toMatchObject({ purged: 1500 });
  expect(batches).toBe(2);
});
