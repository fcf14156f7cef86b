/**
 * Opening a `jobProgress` subscription reads PostgreSQL once: the job together with its history row at its
 * seq (without `after`), or with the first page of its history after `after`, in one statement, where it took
 * two round trips (the job, then its history).
 * Statements are counted by PostgreSQL itself (pg_stat_statements, preloaded on a private server for this
 * file).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEnv, startTestApp, type TestApp, type TestEnv } from '../support/app.js';
import { bearer, gql, PROGRESS, SUBMIT } from '../support/graphql.js';
import { rawSocket } from '../support/raw-ws.js';
import { startPrivatePostgres, type PrivatePostgres } from '../setup/services.js';

/** Subscriptions opened of each kind (without `after`, with it). */
const OPENS = 20;

let pg: PrivatePostgres;
let env: TestEnv;
/** API only: nothing runs the job, so its subscriptions read nothing after they open. */
let api: TestApp;
beforeAll(async () => {
  pg = await startPrivatePostgres({ settings: ['shared_preload_libraries=pg_stat_statements'] });
  env = await createTestEnv({ adminUrl: pg.url() });
  await env.sql`create extension pg_stat_statements`;
  api = await startTestApp({ env, handlers: null });
});
afterAll(async () => {
  await api?.dispose();
  await env?.dispose();
  await pg?.dispose();
});

/** Calls of this file's database's statements that read a job by id or a job's history. */
async function jobReads(): Promise<number> {
  const [row] = await env.sql<{ n: number }[]>`
    select coalesce(sum(calls), 0)::int as n from pg_stat_statements
    where dbid = (select oid from pg_database where datname = current_database())
      and query like any(${['%job_history%', '%from jobs where id = $1%']})`;
  return row!.n;
}

it('opens a jobProgress subscription, with or without after, in one statement', async () => {
  const r = await gql(api.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 0 } } });
  const jobId: string = r.body.data.submitJob.job.id;
  const s = rawSocket(api.wsUrl);
  await s.opened;
  s.send({ type: 'connection_init', payload: { authorization: bearer(api.key!) } });
  await s.next((m) => m.type === 'connection_ack');

  const before = await jobReads();
  const ids = Array.from({ length: 2 * OPENS }, (_, i) => String(i));
  for (const id of ids) {
    const after = Number(id) < OPENS ? null : 0;
    s.send({ id, type: 'subscribe', payload: { query: PROGRESS, variables: { id: jobId, after } } });
  }
  const first = await Promise.all(ids.map((id) => s.next((m) => m.type === 'next' && m.id === id)));
  // Each opened with the job's QUEUED (its current state, and its whole history after 0).
  expect(first.map((m) => [m.payload.data.jobProgress.seq, m.payload.data.jobProgress.state])).toEqual(ids.map(() => [1, 'QUEUED']));
  expect((await jobReads()) - before).toBe(2 * OPENS);
  s.ws.close();
  await s.closed;
});
