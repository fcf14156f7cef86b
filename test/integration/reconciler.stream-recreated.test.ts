/**
 * The reconciler after the jobs stream was deleted and made again (an operator's mistake, a lost server):
 * its sequences start over, so the sequence a waiting job's message had may now hold another job's message.
 * That does not count as the job's message: the job is re-queued, and the other job's message is left alone.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql, SUBMIT } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/streams.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null, config: { RECONCILE_AFTER_MS: '1000' } });
});
afterAll(async () => {
  await t?.dispose();
});

const submit = async () => (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1 } } })).body.data.submitJob.job.id as string;
const seqOf = async (id: string) =>
  (await t.app.deps.sql`select coalesce(msg_seq, (select max(stream_seq) from outbox o where o.job_id = jobs.id))::int as s
                        from jobs where id = ${id}`)[0]!.s as number | null;
const idAt = async (seq: number) => (await t.app.deps.nats.jsm.streams.getMessage(t.app.deps.names.jobsStream, { seq }))?.json<{ id: string }>().id;

it('re-queues a waiting job whose sequence holds another job\'s message in a stream made again', async () => {
  const { nats, names, relay, sql } = t.app.deps;
  const waiting = await submit();
  await eventually(async () => (await seqOf(waiting)) !== null, 'it is published');
  const seq = (await seqOf(waiting))!;

  const { config } = await nats.jsm.streams.info(names.jobsStream);
  expect(await nats.jsm.streams.delete(names.jobsStream)).toBe(true);
  await nats.jsm.streams.add(config);
  let other = '';
  // The new stream's messages take the sequences from 1 again, up to the waiting job's.
  while ((await nats.jsm.streams.info(names.jobsStream)).state.last_seq < seq) {
    other = await submit();
    await eventually(async () => (await seqOf(other)) !== null, 'it is published');
  }
  expect(await idAt(seq)).not.toBe(waiting);

  await sql`update jobs set updated_at = updated_at - interval '1 hour' where id = ${waiting}`;
  await relay.reconcileOnce();
  await eventually(async () => {
    const s = await seqOf(waiting);
    return s !== null && s !== seq;
  }, 'the waiting job is re-queued', 30_000);
  expect(await idAt((await seqOf(waiting))!)).toBe(waiting);
  expect(await idAt((await seqOf(other))!)).toBe(other); // the other job keeps its one message
  expect((await nats.jsm.streams.info(names.jobsStream)).state.messages).toBe(seq + 1);
});
