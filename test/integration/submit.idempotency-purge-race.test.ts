/**
 * An idempotent resubmit racing the deletion of the key's job (retention, or `purgeJobs` in another API
 * process): the submit's insert finds the key taken, the purge deletes that job and commits, then the submit
 * reads the job holding the key and finds none. The caller must still get a job (here a new one: the key is
 * free again), never `job: null` with no userErrors.
 *
 * The submitting API's PostgreSQL link is slowed (a proxy delays what PostgreSQL sends by 1.5 s), so the
 * purge, by a second API process on a direct link, lands between the submit's two statements.
 */
import { expect, it } from 'vitest';
import { useProxiedApps } from '../support/app.js';
import { gql, SUBMIT } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';

/**
 * `submitter`: the API the client submits to, on PostgreSQL through the proxy; `purger`: another API process,
 * on PostgreSQL directly, where the admin's purge goes.
 */
const f = useProxiedApps({ service: 'DATABASE_URL', direct: { handlers: null }, proxied: { handlers: null } });

const CANCEL = /* GraphQL */ `mutation C($id: ID!) { cancelJob(id: $id) { job { state } userErrors { code } } }`;
const PURGE = /* GraphQL */ `mutation P { purgeJobs(input: { olderThanSeconds: 0, states: [CANCELLED] }) { purged userErrors { code } } }`;

it('a resubmit whose key’s job is purged between its insert and its read gets a job, not null', async () => {
  const input = { type: 'demo.noop', payload: {}, idempotencyKey: 'order-42' };
  const { env, proxy, proxied: submitter, direct: purger } = f;
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
