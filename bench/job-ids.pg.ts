/**
 * What job ids cost PostgreSQL: ROWS jobs inserted 1,000 per statement as `submitJobs` does, then claimed and
 * completed 50 per statement as a worker does (the same functions), with a CHECKPOINT every 20,000 jobs (as
 * `checkpoint_timeout` does every five minutes in a running system), once with random (version 4) ids and
 * once with the version 7 ids longrun makes (src/jobs/job-id.ts). Prints, per statement and id kind, its
 * execution time, WAL bytes and full-page images per job, from `pg_stat_statements`, so the server must
 * preload it (docs/performance.md, "Reproducing the profile": a private server on port 55432).
 *
 *   ADMIN_URL=postgres://postgres@127.0.0.1:55432/postgres npx tsx bench/job-ids.pg.ts   # ROWS=100000 ROUNDS=2
 */
import { randomUUID } from 'node:crypto';
import { preparing } from '../src/db/client.js';
import { insertJobs, type NewJob } from '../src/db/jobs.js';
import { markRunningMany, markSucceededMany } from '../src/db/transitions.js';
import { newJobId } from '../src/jobs/job-id.js';
import { openScratchDb } from './scratch-db.js';

const ROWS = Number(process.env.ROWS ?? 100_000);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const CHECKPOINT_EVERY = 20_000;
const scratch = await openScratchDb('lr_scratch_job_ids');
const sql = preparing(scratch.sql);
await sql.unsafe('create extension if not exists pg_stat_statements');

async function run(makeId: () => string, rows: number): Promise<Record<string, unknown>[]> {
  await sql.unsafe('truncate jobs, outbox, job_events cascade');
  await sql.unsafe('checkpoint');
  await sql.unsafe('select pg_stat_statements_reset()');
  const ids: string[] = [];
  for (let done = 0; done < rows; done += 1000) {
    const input: NewJob[] = Array.from({ length: 1000 }, () => ({
      id: makeId(), owner: 'o', type: 'bench.noop', payload: {}, maxAttempts: 3, timeoutMs: 60_000,
      idempotencyKey: null, traceparent: null, subject: 'bench.jobs.bench.noop', runAt: null,
    }));
    await insertJobs(sql, input, 1);
    ids.push(...input.map((j) => j.id));
    if ((done + 1000) % CHECKPOINT_EVERY === 0) await sql.unsafe('checkpoint');
  }
  await sql.unsafe('analyze jobs');
  for (let i = 0; i < ids.length; i += 50) {
    const batch = ids.slice(i, i + 50);
    const tokens = batch.map(() => randomUUID());
    const claimed = await markRunningMany(sql, batch.map((id, n) => ({ id, series: 1, leaseMs: 30_000, msgSeq: i + n + 1, token: tokens[n]! })));
    await markSucceededMany(sql, claimed.map((j, n) => ({ id: j!.id, attempt: j!.attempts, series: 1, token: tokens[n]!, lastSeq: j!.seq, result: null, progressMessage: null })));
    if ((i + 50) % CHECKPOINT_EVERY === 0) await sql.unsafe('checkpoint');
  }
  const [{ ok }] = (await sql.unsafe(`select count(*)::int as ok from jobs where state = 'SUCCEEDED'`)) as unknown as [{ ok: number }];
  if (ok !== rows) throw new Error(`${ok} of ${rows} jobs SUCCEEDED`);
  return sql.unsafe(`
    select case when query like '%with input as%' then 'insert (1,000)' when query like '%lease_ms%' then 'claim (50)' else 'complete (50)' end as statement,
      round((total_exec_time / ${rows} * 1000)::numeric, 1) as "µs/job", round(wal_bytes / ${rows}) as "WAL bytes/job", wal_fpi as "full-page images"
    from pg_stat_statements where query like 'with%' and calls >= ${rows / 1000} order by 1`);
}

// The first run in a fresh database is slower whatever its ids (seen: either kind's insert about twice as
// slow when it ran first), so one unreported run goes first, then the two kinds take turns.
await run(randomUUID, ROWS / 10);
for (let round = 1; round <= ROUNDS; round++) {
  for (const [kind, makeId] of [['version 4 (random)', randomUUID], ['version 7', () => newJobId()]] as const) {
    console.log(`round ${round}, ${ROWS} jobs, ids of ${kind}:`);
    console.table(await run(makeId, ROWS));
  }
}
await scratch.end();
