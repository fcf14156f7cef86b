/**
 * The reconciler and a RETRYING job that `rescheduleJob` moved to now: its fresh copy is the message it checks
 * (the job's recorded `msg_seq`, its old delayed message's, is cleared with the copy), so a lost copy is
 * re-queued even though the old message, due much later, is still in the stream.
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

const entriesOf = (id: string) =>
  t.env.sql<{ msgId: string; seq: number | null }[]>`select msg_id as "msgId", stream_seq::int as seq from outbox where job_id = ${id} order by id`;

it('re-queues a rescheduled job whose fresh copy was lost, its old message notwithstanding', async () => {
  const { relay, sql, nats, names } = t.app.deps;
  const submitted = await gql(t.url, `mutation { submitJob(input: { type: "demo.sleep", payload: { ms: 1 } }) { job { id } } }`);
  const id = submitted.body.data.submitJob.job.id as string;
  await eventually(async () => (await entriesOf(id))[0]?.seq != null, 'its message published');
  const oldSeq = (await entriesOf(id))[0]!.seq!;
  // As a worker leaves it after a failed attempt: RETRYING, its message (claimed at oldSeq) nak'ed for an hour.
  await sql`update jobs set state = 'RETRYING', attempts = 1, msg_seq = ${oldSeq}, next_attempt_at = now() + interval '1 hour' where id = ${id}`;

  const r = await gql(t.url, `mutation($id: ID!) { rescheduleJob(id: $id) { job { state } userErrors { code } } }`, { id });
  expect(r.body.data.rescheduleJob).toEqual({ job: { state: 'RETRYING' }, userErrors: [] });
  await eventually(async () => (await entriesOf(id))[1]?.seq != null, 'its fresh copy published');
  const copySeq = (await entriesOf(id))[1]!.seq!;
  await nats.jsm.streams.deleteMessage(names.jobsStream, copySeq); // lost (a power loss on a 2.9 server)
  await sql`update jobs set updated_at = updated_at - interval '1 hour', next_attempt_at = next_attempt_at - interval '1 hour' where id = ${id}`;

  expect(await relay.reconcileOnce()).toBe(1);
  const entries = await entriesOf(id);
  expect(entries).toHaveLength(3);
  expect(entries[2]!.msgId).toMatch(new RegExp(`^${id}:1:\\d+$`)); // the reconciler's copy
  expect(await nats.jsm.streams.getMessage(names.jobsStream, { seq: oldSeq })).not.toBeNull(); // the old one is still there
}, 60_000);
