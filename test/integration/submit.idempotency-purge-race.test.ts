/**
 * An idempotent resubmit racing the deletion of the key's job (retention, or `purgeJobs` in another API
 * process): the submit's insert finds the key taken, the purge deletes that job and commits, then the submit
 * reads the job holding the key and finds none. The caller must still get a job (here a new one: the key is
 * free again), never `job: null` with no userErrors.
 *
 * The submitting API's PostgreSQL link is slowed (a proxy delays what PostgreSQL sends by 1.5 s), so the
 * purge, by a second API process on a direct link, lands between the submit's two statements.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEnv, startTestApp, type TestApp, type TestEnv } from '../support/app.js';
import { gql, SUBMIT } from '../support/graphql.js';
import { startTcpProxyFor, type TcpProxy } from '../support/proxy.js';
import { eventually } from '../support/receivers.js';

let env: TestEnv;
let proxy: TcpProxy;
/** The API the client submits to, on PostgreSQL through the proxy. */
let submitter: TestApp;
/** Another API process, on PostgreSQL directly: the admin's purge goes there. */
let purger: TestApp;
beforeAll(async () => {
  env = await createTestEnv();
  const db = await startTcpProxyFor(env.databaseUrl);
  proxy = db.proxy;
  submitter = await startTestApp({ env, handlers: null, config: { DATABASE_URL: db.url } });
  purger = await startTestApp({ env, handlers: null });
});
afterAll(async () => {
  await submitter?.dispose();
  await purger?.dispose();
  await proxy?.close();
  await env?.dispose();
});

const CANCEL = /* GraphQL */ `mutation C($id: ID!) { cancelJob(id: $id) { job { state } userErrors { code } } }`;
const PURGE = /* GraphQL */ `mutation P { purgeJobs(input: { olderThanSeconds: 0, states: [CANCELLED] }) { purged userErrors { code } } }`;

it('a resubmit whose key’s job is purged between its insert and its read gets a job, not null', async () => {
  const input = { type: 'demo.noop', payload: {}, idempotencyKey: 'order-42' };
  const first = (await gql(submitter.url, SUBMIT, { input })).body.data.submitJob;
  expect(first.userErrors).toEqual([]);
  expect((await gql(submitter.url, CANCEL, { id: first.job.id })).body.data.cancelJob).toEqual({ job: { state: 'CANCELLED' }, userErrors: [] });

  const t0 = (await env.sql<{ t0: Date }[]>`select now() as t0`)[0]!.t0;
  proxy.slow(1500);
  const resubmit = gql(submitter.url, SUBMIT, { input });
  // The resubmit's insert has run (the key was taken: nothing inserted); its answer is on the slow way back.
  await eventually(
    async () =>
      (await env.sql`select 1 from pg_stat_activity where datname = current_database() and state = 'idle'
        and query like 'with input as%' and query_start > ${t0}`).length > 0,
    10_000,
    'the insert',
  );
  expect((await gql(purger.url, PURGE)).body.data.purgeJobs).toEqual({ purged: 1, userErrors: [] });

  const r = (await resubmit).body;
  proxy.slow(0);
  expect(r.errors).toBeUndefined();
  expect(r.data.submitJob.userErrors).toEqual([]);
  expect(r.data.submitJob.job).toMatchObject({ type: 'demo.noop', state: 'QUEUED' });
  expect(r.data.submitJob.job.id).not.toBe(first.job.id);
  const [row] = await env.sql<{ id: string }[]>`select id from jobs where idempotency_key = 'order-42'`;
  expect(row?.id).toBe(r.data.submitJob.job.id);
});
