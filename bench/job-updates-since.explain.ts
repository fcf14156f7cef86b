/**
 * Query plans of `jobUpdates(since)`'s replay at ~100k jobs (each with its history), in a scratch database
 * (created, filled with generated jobs, and dropped unless KEEP=1). Runs the exact SQL of src/db/queries.ts
 * (`changedJobsSince`, `historySince`) through EXPLAIN (ANALYZE, BUFFERS).
 *
 *   npx tsx bench/job-updates-since.explain.ts     # ROWS=100000 by default
 */
import type { Sql } from '../src/db/client.js';
import { openScratchDb } from './scratch-db.js';
import { changedJobsSince, historySince } from '../src/db/queries.js';
import { MAX_REPLAY_ROWS } from '../src/progress/replay-bounds.js';

const ROWS = Number(process.env.ROWS ?? 100_000);
const scratch = await openScratchDb('lr_scratch_since');
const { sql } = scratch;

const [{ n }] = (await sql`select count(*)::int as n from jobs`) as unknown as [{ n: number }];
if (n < ROWS) {
  console.log(`generating ${ROWS - n} jobs and their history…`);
  // 100 owners, 3 types, 7 days; 90% SUCCEEDED, 4% CANCELLED, 3% FAILED, 2% QUEUED, 1% RUNNING.
  await sql.unsafe(`
    insert into jobs (id, owner, type, state, payload, max_attempts, timeout_ms, attempts, seq, seq_reserved, created_at, updated_at, started_at, finished_at, progress)
    select gen_random_uuid(), 'owner' || (i % 100), (array['demo.sleep','demo.flaky','demo.hash'])[1 + i % 3], s, '{}', 3, 60000,
      case when s = 'QUEUED' then 0 else 1 end, case when s = 'QUEUED' then 1 when s = 'RUNNING' then 3 else 4 end,
      case when s = 'QUEUED' then 1 when s = 'RUNNING' then 3 else 4 end, c,
      case when s = 'QUEUED' then c when s = 'RUNNING' then c + interval '1 second' else c + interval '2 seconds' end,
      case when s = 'QUEUED' then null else c end,
      case when s in ('SUCCEEDED','FAILED','CANCELLED') then c + interval '2 seconds' end,
      case when s = 'SUCCEEDED' then 100 else 0 end
    from (
      select i, now() - (random() * interval '7 days') as c,
        (case when r < 0.90 then 'SUCCEEDED' when r < 0.94 then 'CANCELLED' when r < 0.97 then 'FAILED'
              when r < 0.99 then 'QUEUED' else 'RUNNING' end)::job_state as s
      from (select i, random() as r from generate_series(1, ${ROWS - n}) i) g
    ) x`);
  // Their history: RUNNING (seq 2), a progress milestone (seq 3), the terminal state (seq 4).
  await sql.unsafe(`
    insert into job_events (job_id, seq, kind, state, progress, attempt, at)
    select id, 2, 'state', 'RUNNING'::job_state, 0, 1, created_at from jobs where state <> 'QUEUED'
    union all select id, 3, 'progress', 'RUNNING'::job_state, 50, 1, created_at + interval '1 second' from jobs where state <> 'QUEUED'
    union all select id, 4, 'state', state, progress, 1, finished_at from jobs where finished_at is not null`);
  await sql.unsafe('vacuum analyze jobs, job_events');
}

/** A stand-in client that EXPLAINs each statement, prints the plan, and answers the statement's own rows. */
const explaining = (label: string) =>
  ({
    unsafe: async (query: string, params: unknown[]) => {
      const plan = await sql.unsafe(`explain (analyze, buffers, costs off) ${query}`, params as never[]);
      console.log(`\n## ${label}\n${plan.map((r) => r['QUERY PLAN']).join('\n')}`);
      return sql.unsafe(query, params as never[]);
    },
  }) as unknown as Sql;

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
for (const [label, since, owner] of [
  ['last 10 minutes, all owners', minutesAgo(10), null],
  ['last 10 minutes, one owner', minutesAgo(10), 'owner7'],
  ['last 2 days, all owners (past the bound)', minutesAgo(2 * 24 * 60), null],
] as const) {
  const jobs = await changedJobsSince(explaining(`changed jobs: ${label}`), since, { owner, types: null, ids: null }, MAX_REPLAY_ROWS + 1);
  console.log(`→ ${jobs.length} jobs`);
  if (jobs.length > MAX_REPLAY_ROWS) continue;
  const rows = await historySince(explaining(`history: ${label}`), jobs.map((j) => j.id), since, null, MAX_REPLAY_ROWS + 1);
  console.log(`→ ${rows.length} rows`);
}

await scratch.end();
