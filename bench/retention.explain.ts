/**
 * Query plan of a retention pass (`lockExpiredJobs`, src/db/retention.ts) at ~200k jobs finished over 120
 * days, a fifth of them with a webhook delivery (one in twenty of those still PENDING), in a scratch database (created, filled, and dropped unless KEEP=1), with the default ages (30 days
 * for SUCCEEDED and CANCELLED, 90 for FAILED): the steady state, where the expired jobs are gone and each
 * pass only checks. EXPLAIN (ANALYZE, BUFFERS) of the exact SQL, in a transaction rolled back.
 *
 *   npx tsx bench/retention.explain.ts     # ROWS=200000 by default
 */
import type { Sql } from '../src/db/client.js';
import { lockExpiredJobs } from '../src/db/retention.js';
import { openScratchDb } from './scratch-db.js';

const ROWS = Number(process.env.ROWS ?? 200_000);
const DAY = 86_400_000;
const scratch = await openScratchDb('lr_scratch_retention');
const { sql } = scratch;

const [{ n }] = (await sql`select count(*)::int as n from jobs`) as unknown as [{ n: number }];
if (n < ROWS) {
  console.log(`generating ${ROWS - n} finished jobs over 120 days…`);
  // 94% SUCCEEDED, 3% CANCELLED, 3% FAILED.
  await sql.unsafe(`
    insert into jobs (id, owner, type, state, payload, max_attempts, timeout_ms, attempts, seq, seq_reserved, created_at, updated_at, started_at, finished_at, progress)
    select gen_random_uuid(), 'owner' || (i % 100), 'demo.sleep', s, '{}', 3, 60000, 1, 4, 4, c, c, c, c, 100
    from (
      select i, now() - (random() * interval '120 days') as c,
        (case when r < 0.94 then 'SUCCEEDED' when r < 0.97 then 'CANCELLED' else 'FAILED' end)::job_state as s
      from (select i, random() as r from generate_series(1, ${ROWS - n}) i) g
    ) x`);
  // A webhook on a fifth of them, each with its delivery: SENT, or PENDING for one in twenty of those (a
  // receiver still being retried), which retention must wait for.
  await sql.unsafe(`
    insert into job_notifications (job_id, channel, target, on_states, subject)
    select id, 'webhook', 'https://hooks.example.com/done', '{SUCCEEDED,FAILED,CANCELLED}', 'x' from jobs where random() < 0.2`);
  await sql.unsafe(`
    insert into notification_deliveries (id, notification_id, job_id, series, job_state, status, attempts, body, created_at, updated_at, finished_at)
    select gen_random_uuid(), n.id, n.job_id, 1, j.state, p.status, 1, '{}', j.finished_at, j.finished_at,
      case when p.status = 'PENDING' then null else j.finished_at end
    from job_notifications n join jobs j on j.id = n.job_id
    cross join lateral (select case when random() < 0.05 and n.id > 0 then 'PENDING' else 'SENT' end as status) p`);
  await sql.unsafe('vacuum analyze jobs');
  await sql.unsafe('vacuum analyze job_notifications');
  await sql.unsafe('vacuum analyze notification_deliveries');
}

/** Ends the EXPLAIN's transaction without keeping its locks or anything else. */
class Rollback extends Error {}

const ages = { SUCCEEDED: 30 * DAY, CANCELLED: 30 * DAY, FAILED: 90 * DAY };
for (const label of ['first pass (expired jobs present)', 'steady state (expired jobs deleted)']) {
  if (label.startsWith('steady')) {
    await sql.unsafe(`delete from jobs where (state <> 'FAILED' and finished_at < now() - interval '30 days') or finished_at < now() - interval '90 days'`);
    await sql.unsafe('vacuum analyze jobs');
  }
  await sql.begin(async (tx) => {
    const explaining = {
      unsafe: async (query: string, params: unknown[]) => {
        const plan = await tx.unsafe(`explain (analyze, buffers, costs off) ${query}`, params as never[]);
        console.log(`\n## ${label}\n${plan.map((r) => r['QUERY PLAN']).join('\n')}`);
        return [];
      },
    } as unknown as Sql;
    await lockExpiredJobs(explaining, ages, 1000);
    throw new Rollback();
  }).catch((e: unknown) => {
    if (!(e instanceof Rollback)) throw e;
  });
}

await scratch.end();
