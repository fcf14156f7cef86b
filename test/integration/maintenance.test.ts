/**
 * Planner statistics of the hot tables stay fresh even with autovacuum off (src/db/maintenance.ts), so the
 * prepared statements' cached plans are re-made for the table's real size. Autovacuum is turned off for the
 * test's `jobs` table, whatever the server's setting (on in a private cluster `npm test` starts): an
 * autovacuum ANALYZE between two steps would leave `analyzeIfGrown` nothing to do.
 */
import { expect, it } from 'vitest';
import { insertJobs } from '../../src/db/jobs.js';
import { analyzeIfGrown } from '../../src/db/maintenance.js';
import { newJob as job, useTestDb } from '../support/app.js';
import { eventually } from '../support/streams.js';

const t = useTestDb();

const analyzedRows = async () =>
  (await t.env.sql<{ n: number | null }[]>`select reltuples::int as n from pg_class where relname = 'jobs'`)[0]!.n;

it('analyzes jobs once it has grown enough, not for updates, and again once it has doubled', async () => {
  await t.env.sql`alter table jobs set (autovacuum_enabled = false)`;
  await insertJobs(t.db.sql, Array.from({ length: 100 }, () => job()));
  // Pending statistics reach pg_stat_user_tables within about a second.
  await new Promise((r) => setTimeout(r, 1500));
  expect(await analyzeIfGrown(t.db.sql)).not.toContain('jobs'); // 100 rows: below the threshold

  await insertJobs(t.db.sql, Array.from({ length: 1000 }, () => job()));
  await eventually(async () => (await analyzeIfGrown(t.db.sql)).includes('jobs'), 'jobs is analyzed');
  expect(await analyzedRows()).toBe(1100);
  expect(await analyzeIfGrown(t.db.sql)).not.toContain('jobs');

  // Updates (claims, outcomes) change no plan: every row updated twice is not a reason.
  await t.env.sql`update jobs set progress = 1`;
  await t.env.sql`update jobs set progress = 2`;
  await new Promise((r) => setTimeout(r, 1500));
  expect(await analyzeIfGrown(t.db.sql)).not.toContain('jobs');

  // Growth is: past twice the analyzed size plus 500 (2,700 rows), it is analyzed again.
  await insertJobs(t.db.sql, Array.from({ length: 1500 }, () => job())); // 2,600
  await new Promise((r) => setTimeout(r, 1500));
  expect(await analyzeIfGrown(t.db.sql)).not.toContain('jobs');
  await insertJobs(t.db.sql, Array.from({ length: 200 }, () => job())); // 2,800
  await eventually(async () => (await analyzeIfGrown(t.db.sql)).includes('jobs'), 'jobs is analyzed again');
  expect(await analyzedRows()).toBe(2800);

  // Statistics only for what queries filter on: none for the documents (migration 0002), the costly part.
  const withStats = (await t.env.sql<{ a: string }[]>`select attname as a from pg_stats where tablename = 'jobs'`).map((r) => r.a);
  expect(withStats).toEqual(expect.arrayContaining(['id', 'owner', 'type', 'state', 'created_at']));
  expect(withStats).not.toContain('payload');
  expect(withStats).not.toContain('result');
});
