/**
 * A keyed batch whose key's job is deleted between the insert (which found the key taken) and the read of
 * that job, on every try: the batch answers SERVICE_UNAVAILABLE (try again), and nothing of it is written.
 * Before, the last try committed the batch's other jobs and then answered the error, so a client retrying
 * the batch submitted its inputs without a key a second time.
 *
 * The deletion is made to land there every time by a trigger of this test's database: after each insert
 * statement into `jobs`, it deletes the job holding the key, inside the submit's own transaction (so the
 * retries' rollbacks bring the job back, as if another process deleted it and it was made again).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql, SUBMIT } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

const SUBMIT_BATCH = /* GraphQL */ `mutation S($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id } userErrors { code } } }`;

it('a keyed batch whose key keeps vanishing under it writes nothing and answers SERVICE_UNAVAILABLE', async () => {
  const held = (await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {}, idempotencyKey: 'vanishing' } })).body.data.submitJob;
  expect(held.userErrors).toEqual([]);
  const sql = t.env.sql;
  await sql.unsafe(`
    create function vanish() returns trigger language plpgsql as $$
    begin delete from jobs where idempotency_key = 'vanishing'; return null; end $$;
    create trigger vanish after insert on jobs for each statement execute function vanish();`);
  try {
    const before = (await sql<{ n: number }[]>`select count(*)::int as n from jobs`)[0]!.n;
    const inputs = [
      { type: 'demo.noop', payload: {}, idempotencyKey: 'vanishing' },
      { type: 'demo.noop', payload: {}, idempotencyKey: 'kept' },
      { type: 'demo.noop', payload: {} },
    ];
    const r = await gql(t.url, SUBMIT_BATCH, { inputs });
    expect(r.body.errors?.map((e) => e.extensions?.code)).toEqual(['SERVICE_UNAVAILABLE']);
    expect((await sql<{ n: number }[]>`select count(*)::int as n from jobs`)[0]!.n).toBe(before);
    expect(await sql`select id from jobs where idempotency_key = 'vanishing'`).toEqual([{ id: held.job.id }]);
    expect(await sql`select 1 from outbox o where not exists (select 1 from jobs j where j.id = o.job_id)`).toEqual([]);
  } finally {
    await sql.unsafe(`drop trigger vanish on jobs; drop function vanish();`);
  }
});
