/**
 * Query plans of the `jobs` connection, `totalCount` and `queueStats` at ~1M jobs, in a scratch database
 * (created, filled with generated jobs, and dropped unless KEEP=1). Runs the exact SQL of src/db/queries.ts
 * through EXPLAIN (ANALYZE, BUFFERS).
 *
 *   npx tsx bench/jobs-list.explain.ts            # ROWS=1000000 by default
 */
import type { Sql } from '../src/db/client.js';
import { openScratchDb } from './scratch-db.js';
import { countJobs, jobExistsBeyond, listJobs, type JobListFilter } from '../src/db/queries.js';
import { countByType, ratesByType } from '../src/db/type-stats.js';

const ROWS = Number(process.env.ROWS ?? 1_000_000);
const scratch = await openScratchDb('lr_scratch_explain');
const { sql } = scratch;

const [{ n }] = (await sql`select count(*)::int as n from jobs`) as unknown as [{ n: number }];
if (n < ROWS) {
  console.log(`generating ${ROWS - n} jobs…`);
  // 100 owners, 3 types, 30 days; 90% SUCCEEDED, 4% CANCELLED, 3% FAILED, 2% QUEUED, 1% RUNNING.
  await sql.unsafe(`
    insert into jobs (id, owner, type, state, payload, max_attempts, timeout_ms, attempts, created_at, updated_at, started_at, finished_at, progress)
    select gen_random_uuid(), 'owner' || (i % 100), (array['demo.sleep','demo.flaky','demo.hash'])[1 + i % 3], s, '{}', 3, 60000,
      case when s = 'QUEUED' then 0 else 1 end, c, c,
      case when s = 'QUEUED' then null else c end,
      case when s in ('SUCCEEDED','FAILED','CANCELLED') then c + interval '2 seconds' end,
      case when s = 'SUCCEEDED' then 100 else 0 end
    from (
      select i, now() - (random() * interval '30 days') as c,
        (case when r < 0.90 then 'SUCCEEDED' when r < 0.94 then 'CANCELLED' when r < 0.97 then 'FAILED'
              when r < 0.99 then 'QUEUED' else 'RUNNING' end)::job_state as s
      from (select i, random() as r from generate_series(1, ${ROWS - n}) i) g
    ) x`);
  // A few jobs finished within the last minute, for the throughput query.
  await sql.unsafe(`update jobs set finished_at = now() - interval '10 seconds' where id in (select id from jobs where state = 'SUCCEEDED' limit 500)`);
  await sql.unsafe('vacuum analyze jobs');
}

/** A stand-in client that EXPLAINs each statement instead of running it, and prints the plan. */
const explaining = (label: string) =>
  ({
    unsafe: async (query: string, params: unknown[]) => {
      const plan = await sql.unsafe(`explain (analyze, buffers, costs off) ${query}`, params as never[]);
      console.log(`\n## ${label}\n${plan.map((r) => r['QUERY PLAN']).join('\n')}`);
      return [{}];
    },
  }) as unknown as Sql;

const all: JobListFilter = { owner: null, ids: null, states: null, types: null, createdAfter: null, createdBefore: null };
const mine: JobListFilter = { ...all, owner: 'owner7' };
const [mid] = await sql<{ at: string; id: string }[]>`
  select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at, id::text
  from jobs order by created_at desc nulls last, id desc nulls last offset ${Math.floor(ROWS / 2)} limit 1`;
const [newest] = await sql<{ at: string; id: string }[]>`
  select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at, id::text
  from jobs order by created_at desc nulls last, id desc nulls last offset 20 limit 1`;
const page = { olderThan: null, newerThan: null, from: 'newest' as const, limit: 21 };

await listJobs(explaining('admin, first page'), all, page);
await listJobs(explaining('admin, page after a cursor half-way down'), all, { ...page, olderThan: mid! });
await listJobs(explaining('admin, last page backwards (before a cursor)'), all, { ...page, newerThan: mid!, from: 'oldest' });
await listJobs(explaining('one owner, first page'), mine, page);
await listJobs(explaining('one owner, state FAILED (3%)'), { ...mine, states: ['FAILED'] }, page);
await listJobs(explaining('admin, state QUEUED (2%), one type'), { ...all, states: ['QUEUED'], types: ['demo.hash'] }, page);
await listJobs(explaining('one owner, created in the last day'), { ...mine, createdAfter: new Date(Date.now() - 86_400_000) }, page);
// 100 ids spread over the 30 days (a batch's jobs would be next to each other: the easier case).
const ids = (await sql<{ id: string }[]>`select id::text from jobs tablesample system (1) limit 100`).map((r) => r.id);
await listJobs(explaining('one owner, filter.ids (100, spread over 30 days)'), { ...mine, ids }, page);
await listJobs(explaining('admin, filter.ids (100) and state FAILED'), { ...all, ids, states: ['FAILED'] }, page);
await jobExistsBeyond(explaining('hasPreviousPage probe (EXISTS), filter.ids (100), cursor half-way'), { ...all, ids }, mid!, 'newer');
await countJobs(explaining('totalCount, one owner, filter.ids (100)'), { ...mine, ids });
await jobExistsBeyond(explaining('hasPreviousPage probe (EXISTS), cursor half-way'), all, mid!, 'newer');
await jobExistsBeyond(explaining('hasPreviousPage probe (EXISTS), cursor on page 2, one owner, FAILED'), { ...mine, states: ['FAILED'] }, newest!, 'newer');
await jobExistsBeyond(explaining('hasNextPage probe (EXISTS) of a backwards page, cursor near the newest end'), all, newest!, 'older');
await countJobs(explaining('totalCount, one owner'), mine);
await countJobs(explaining('totalCount, admin, no filter'), all);
await ratesByType(explaining('queueStats: throughput last minute + oldest queued'), null);
await countByType(explaining('queueStats: counts by state'), null);

await scratch.end();
