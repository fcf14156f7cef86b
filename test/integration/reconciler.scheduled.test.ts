/**
 * The reconciler and a scheduled job (`runAt`): while its runAt is ahead its message is absent from the stream
 * on purpose (its outbox entry waits in PostgreSQL), so however long ago it was submitted, a reconciler pass
 * neither re-queues it nor publishes it early; once due, the relay publishes it, once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/streams.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null, config: { RECONCILE_AFTER_MS: '1000' } });
});
afterAll(async () => {
  await t?.dispose();
});

const SUBMIT = `mutation($input: SubmitJobInput!) { submitJob(input: $input) { job { id runAt } userErrors { code } } }`;
const submit = async (runAt: string) =>
  (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1 }, runAt } })).body.data.submitJob.job.id as string;
const entriesOf = async (id: string) =>
  t.env.sql<{ published: boolean }[]>`select published_at is not null as published from outbox where job_id = ${id}`;
const streamMessages = async () => (await t.app.deps.nats.jsm.streams.info(t.app.deps.names.jobsStream)).state.messages;

it('leaves a job scheduled ahead alone, however long ago it was submitted, and publishes it once when due', async () => {
  const { relay, sql } = t.app.deps;
  const ahead = await submit(new Date(Date.now() + 3_600_000).toISOString());
  const soon = await submit(new Date(Date.now() + 2000).toISOString());
  // Submitted (and untouched) an hour ago, long past RECONCILE_AFTER_MS.
  await sql`update jobs set created_at = created_at - interval '1 hour', updated_at = updated_at - interval '1 hour' where id in (${ahead}, ${soon})`;
  await sql`update outbox set created_at = created_at - interval '1 hour' where job_id in (${ahead}, ${soon})`;

  expect(await relay.reconcileOnce()).toBe(0);
  await relay.runOnce();
  expect(await entriesOf(ahead)).toEqual([{ published: false }]);
  expect(await entriesOf(soon)).toEqual([{ published: false }]);
  expect(await streamMessages()).toBe(0);

  await eventually(async () => (await entriesOf(soon))[0]?.published === true, 'the due one is published');
  expect(await streamMessages()).toBe(1);
  expect(await relay.reconcileOnce()).toBe(0);
  await relay.runOnce();
  expect(await entriesOf(soon)).toEqual([{ published: true }]);
  expect(await entriesOf(ahead)).toEqual([{ published: false }]);
  expect(await streamMessages()).toBe(1);
  const [row] = await sql<{ state: string }[]>`select state from jobs where id = ${ahead}`;
  expect(row!.state).toBe('QUEUED');
}, 60_000);
