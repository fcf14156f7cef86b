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

const SUBMIT_BATCH = /* GraphQL */ `mutation S($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id } userErrors { code } } }`;

/**
 * Two batches with keys, each in a transaction that takes its keys in (owner, key) order. Batch A = a, b, c, d:
 * `a` is held by a job that gets purged, `d` by one that stays, `c` by a test transaction left open, so A's
 * insert stops at `c` holding `b`. The purge commits, then batch B = a, b takes `a` and waits for A's `b`.
 * The test transaction rolls back: A's insert ends, A reads the holder of `a` and finds none. Taking `a` now,
 * after `b`, out of order, would wait for B while B waits for A: a deadlock (40P01), which PostgreSQL breaks
 * by failing one of the two submits. Both must get their jobs, one per key.
 */
it('a batch whose key’s job is purged between its insert and its read waits for no batch that waits for it', async () => {
  const { env, direct: app } = f;
  const job = (key: string) => ({ type: 'demo.noop', payload: {}, idempotencyKey: `batch-${key}` });
  const gone = (await gql(app.url, SUBMIT, { input: job('a') })).body.data.submitJob.job.id as string;
  const kept = (await gql(app.url, SUBMIT, { input: job('d') })).body.data.submitJob.job.id as string;
  expect((await gql(app.url, CANCEL, { id: gone })).body.data.cancelJob.job).toEqual({ state: 'CANCELLED' });

  const waiting = async (n: number) =>
    (await env.sql`select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'
      and query like 'with input as%'`).length === n;
  const holder = await env.sql.reserve();
  try {
    await holder`begin`;
    await holder`insert into jobs (id, owner, type, payload, max_attempts, timeout_ms, idempotency_key)
      values (gen_random_uuid(), 'test', 'demo.noop', '{}', 1, 1000, 'batch-c')`;
    const a = gql(app.url, SUBMIT_BATCH, { inputs: ['a', 'b', 'c', 'd'].map(job) });
    await eventually(() => waiting(1), 10_000, 'batch A waiting for c');
    expect((await gql(app.url, PURGE)).body.data.purgeJobs).toEqual({ purged: 1, userErrors: [] });
    const b = gql(app.url, SUBMIT_BATCH, { inputs: ['a', 'b'].map(job) });
    await eventually(() => waiting(2), 10_000, 'batch B waiting for b');
    await holder`rollback`;

    const [ra, rb] = [(await a).body, (await b).body];
    expect(ra.errors).toBeUndefined();
    expect(rb.errors).toBeUndefined();
    expect(ra.data.submitJobs.userErrors).toEqual([]);
    expect(rb.data.submitJobs.userErrors).toEqual([]);
    const rows = await env.sql<{ key: string; id: string }[]>`select idempotency_key as key, id from jobs
      where idempotency_key like 'batch-%' order by idempotency_key`;
    const byKey = Object.fromEntries(rows.map((r) => [r.key, r.id]));
    expect(Object.keys(byKey)).toEqual(['batch-a', 'batch-b', 'batch-c', 'batch-d']);
    expect(byKey['batch-a']).not.toBe(gone);
    expect(byKey['batch-d']).toBe(kept);
    expect(ra.data.submitJobs.jobs.map((j: { id: string }) => j.id)).toEqual(['a', 'b', 'c', 'd'].map((k) => byKey[`batch-${k}`]));
    expect(rb.data.submitJobs.jobs.map((j: { id: string }) => j.id)).toEqual(['a', 'b'].map((k) => byKey[`batch-${k}`]));
  } finally {
    await holder`rollback`;
    holder.release();
  }
});
