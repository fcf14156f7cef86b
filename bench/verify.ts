/**
 * What the bench checks in PostgreSQL (and JetStream) before it reports a figure: every submitted job is
 * there once, every job ran exactly once (one claim, one RUNNING history row, attempts = 1) and SUCCEEDED.
 */
import type postgres from 'postgres';
import type { JetStreamManager } from '@nats-io/jetstream';
import { names } from '../src/messaging/names.js';
import { sleepMs } from './stats.js';
import { HISTORY_TYPE, NEWER_THAN_HISTORY, vacuumJobTables } from './prefill.js';

/**
 * Empties the job tables and the jobs stream between phases (no worker is running then). After `--prefill`
 * it keeps the history (bench/prefill.ts): it deletes the other jobs, their history and the outbox, and
 * vacuums, so no dead rows pile up from part to part.
 */
export async function resetJobs(stack: { sql: postgres.Sql; jsm: JetStreamManager }, o: { prefix: string; prefill: number }): Promise<void> {
  if (o.prefill > 0) {
    await stack.sql.begin(async (tx) => {
      await tx`delete from job_events e using jobs j where j.id = e.job_id and j.type <> ${HISTORY_TYPE}`;
      await tx`delete from outbox`;
      await tx`delete from jobs where type <> ${HISTORY_TYPE}`;
    });
    await vacuumJobTables(stack.sql);
  } else await stack.sql`truncate job_events, outbox, jobs cascade`;
  await stack.jsm.streams.purge(names(o.prefix).jobsStream);
}

/** The ids the client got back must be distinct and be exactly the rows of that type. */
export async function checkSubmitted(sql: postgres.Sql, type: string, ids: readonly string[]): Promise<void> {
  const distinct = new Set(ids);
  if (distinct.size !== ids.length) throw new Error(`the API returned ${ids.length - distinct.size} duplicate ids`);
  const rows = await sql<{ id: string }[]>`select id from jobs where type = ${type} and created_at >= ${NEWER_THAN_HISTORY}`;
  const missing = rows.length === ids.length ? rows.filter((r) => !distinct.has(r.id)).length : -1;
  if (missing !== 0) throw new Error(`PostgreSQL has ${rows.length} ${type} jobs for ${ids.length} accepted (${missing} unknown ids)`);
}

/** Waits until the outbox is fully published and the type's consumer has `n` messages pending. */
export async function waitPublished(sql: postgres.Sql, jsm: JetStreamManager, prefix: string, type: string, n: number, timeoutMs: number): Promise<void> {
  const nm = names(prefix);
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const [o] = await sql<{ unpublished: number }[]>`select count(*)::int as unpublished from outbox where published_at is null`;
    const info = await jsm.consumers.info(nm.jobsStream, nm.workerConsumer(type));
    last = `unpublished outbox entries ${o!.unpublished}, consumer pending ${info.num_pending}`;
    if (o!.unpublished === 0 && info.num_pending === n) return;
    await sleepMs(50);
  }
  throw new Error(`not published within ${timeoutMs} ms: ${last}`);
}

/** Polls until `n` jobs of the type are SUCCEEDED; fails early if any FAILED/CANCELLED or on timeout. */
export async function waitSucceeded(sql: postgres.Sql, type: string, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const [c] = await sql<{ ok: number; bad: number; all: number }[]>`
      select count(*) filter (where state = 'SUCCEEDED')::int as ok,
             count(*) filter (where state in ('FAILED', 'CANCELLED'))::int as bad, count(*)::int as all
      from jobs where type = ${type} and created_at >= ${NEWER_THAN_HISTORY}`;
    last = `${c!.ok} SUCCEEDED, ${c!.bad} FAILED/CANCELLED of ${c!.all} (want ${n})`;
    if (c!.bad > 0) throw new Error(last);
    if (c!.ok >= n) return;
    await sleepMs(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${last}`);
}

/** Exactly once: n rows, all SUCCEEDED with attempts = 1, and one RUNNING history row per job. */
export async function checkExactlyOnce(sql: postgres.Sql, type: string, n: number): Promise<{ succeeded: number; runs: number }> {
  const [c] = await sql<{ all: number; ok: number; retried: number; runs: number }[]>`
    select count(*)::int as all, count(*) filter (where state = 'SUCCEEDED')::int as ok,
      count(*) filter (where attempts <> 1)::int as retried,
      (select count(*)::int from job_events e join jobs j on j.id = e.job_id where j.type = ${type} and j.created_at >= ${NEWER_THAN_HISTORY} and e.kind = 'state' and e.state = 'RUNNING') as runs
    from jobs where type = ${type} and created_at >= ${NEWER_THAN_HISTORY}`;
  if (c!.all !== n || c!.ok !== n || c!.retried !== 0 || c!.runs !== n) {
    throw new Error(`exactly-once check failed for ${type}: rows ${c!.all}, SUCCEEDED ${c!.ok}, attempts≠1 ${c!.retried}, RUNNING events ${c!.runs}, want ${n}`);
  }
  return { succeeded: c!.ok, runs: c!.runs };
}

/** First claim and last finish of a type's jobs, epoch ms (PostgreSQL's clock, the same machine's). */
export async function runSpan(sql: postgres.Sql, type: string): Promise<{ firstStart: number; lastFinish: number }> {
  const [r] = await sql<{ a: number; b: number }[]>`
    select extract(epoch from min(started_at))::float8 * 1000 as a, extract(epoch from max(finished_at))::float8 * 1000 as b
    from jobs where type = ${type} and created_at >= ${NEWER_THAN_HISTORY}`;
  return { firstStart: r!.a, lastFinish: r!.b };
}
