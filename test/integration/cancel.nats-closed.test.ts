/**
 * `cancelJob` of a RUNNING job records the request in PostgreSQL and then tells the worker over NATS. With
 * the API's NATS connection closed (a shutdown under way), that publish threw after the request had
 * committed: the caller got INTERNAL_SERVER_ERROR for a cancel that was recorded and that the worker acts on
 * at its next lease renewal, which reads the flag.
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

it('answers a recorded cancel request when the NATS message to the worker cannot go', async () => {
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 60000 } } })).body.data.submitJob.job.id as string;
  // As a worker's claim leaves it: RUNNING under a live lease.
  await t.env.sql`update jobs set state = 'RUNNING', attempts = 1, started_at = now(), lease_until = now() + interval '1 hour' where id = ${id}`;
  await t.app.deps.nats.nc.close();

  const res = await gql(t.url, `mutation($id: ID!) { cancelJob(id: $id) { job { state } userErrors { code } } }`, { id });
  expect(res.body.errors).toBeUndefined();
  expect(res.body.data.cancelJob).toEqual({ job: { state: 'RUNNING' }, userErrors: [] });
  const [row] = await t.env.sql<{ cancel_requested: boolean }[]>`select cancel_requested from jobs where id = ${id}`;
  expect(row!.cancel_requested).toBe(true);
});
