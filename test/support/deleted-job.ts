/**
 * A job deleted while it is watched, its end unseen: the API alone (no workers) on NATS through a proxy that
 * can cut its connection; the job is run and ended in PostgreSQL, where the API does not hear it, then purged.
 * Cutting the proxy then makes the API's watchers read what they missed.
 */
import { expect } from 'vitest';
import { deleteJobs } from '../../src/db/retention.js';
import { markRunning, markSucceeded } from '../../src/db/transitions.js';
import { createTestEnv, startTestApp, type TestApp } from './app.js';
import { useFixture } from './fixture.js';
import { gql } from './graphql.js';
import { startTcpProxyFor } from './proxy.js';
import { eventually } from './receivers.js';

const PURGE = `mutation { purgeJobs(input: { olderThanSeconds: 0 }) { purged userErrors { code } } }`;

/** The API alone, on NATS through a proxy (`proxy.cut()` drops its connection, which comes back). */
export const useApiWithNatsProxy = () =>
  useFixture(async (later) => {
    const env = await createTestEnv();
    later(() => env.dispose());
    const nats = await startTcpProxyFor(env.natsUrl);
    later(() => nats.proxy.close());
    const api = await startTestApp({ env, handlers: null, config: { NATS_URL: nats.url, RETENTION_INTERVAL_MS: '86400000' } });
    later(() => api.dispose());
    return { proxy: nats.proxy, api };
  });

/** Runs job `id` to SUCCEEDED where the API does not hear it (no update published), then purges it. */
export async function endUnheardAndPurge(api: TestApp, id: string): Promise<void> {
  const sql = api.app.deps.sql;
  const run = (await markRunning(sql, { id, series: 1, leaseMs: 60_000, msgSeq: 1 }))!;
  await markSucceeded(sql, { id, attempt: run.attempts, series: run.series, lastSeq: run.seq, result: null, progressMessage: null });
  expect((await gql(api.url, PURGE)).body.data.purgeJobs).toMatchObject({ purged: 1, userErrors: [] });
}

/**
 * For a watch `after` a seq, whose opening read (the job with its history after the seq, one statement:
 * db/history.ts `getJobOpening`) must be done before the job ends, else it reads that end and prints it.
 * `awaitOpeningRead` takes job_events' lock in a transaction, before the watch starts; `readDone()` waits
 * until the watch's opening read waits on that lock (the watch is listening by then), releases the lock and
 * waits until that read is done. The lock is not held after that: `endUnheardAndDelete(id)` then runs the job
 * to SUCCEEDED where the API does not hear it and deletes it (as a purge does) in one transaction of its own.
 * The read found the job with nothing new: no update.
 */
export async function awaitOpeningRead(api: TestApp): Promise<{ readDone(): Promise<void>; endUnheardAndDelete(id: string): Promise<void> }> {
  const sql = api.app.deps.sql;
  const opening = '%from job_history where job_id = jobs.id and seq >%';
  const t = await sql.reserve();
  let holder: number;
  try {
    await t`begin`;
    await t`lock table job_events in access exclusive mode`;
    holder = (await t<{ holder: number }[]>`select pg_backend_pid() as holder`)[0]!.holder;
  } catch (e) {
    t.release();
    throw e;
  }
  return {
    async readDone() {
      const [reader] = await eventually(
        async () => {
          const rows = await sql<{ pid: number }[]>`select pid from pg_stat_activity
            where ${holder} = any(pg_blocking_pids(pid)) and query like ${opening}`;
          return rows.length ? rows : undefined;
        },
        10_000,
        "the watch's opening read to wait on the lock",
      ).finally(() => t`rollback`); // never left holding the lock (the file's other tests would wait on it)
      await eventually(
        async () => (await sql`select 1 from pg_stat_activity where pid = ${reader!.pid} and state = 'active' and query like ${opening}`).length === 0,
        10_000,
        "the watch's opening read to be done",
      );
    },
    async endUnheardAndDelete(id) {
      try {
        await t`begin`;
        const run = (await markRunning(t, { id, series: 1, leaseMs: 60_000, msgSeq: 1 }))!;
        await markSucceeded(t, { id, attempt: run.attempts, series: run.series, lastSeq: run.seq, result: null, progressMessage: null });
        expect(await deleteJobs(t, [id])).toHaveLength(1);
        await t`commit`;
      } finally {
        t.release();
      }
    },
  };
}
