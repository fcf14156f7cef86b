/**
 * The work-queue stream made again (nats-server restarted on an empty store and the stream set up again, or an
 * operator deleting it): every message from before went with the old one. The reconciler checks the jobs
 * untouched since the stream was made at once, not `RECONCILE_AFTER_MS` later (five minutes by default, an
 * hour here), and re-queues those whose message is gone; a job published into the new stream is left alone.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql, SUBMIT } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/streams.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null, config: { RECONCILE_AFTER_MS: '3600000' } });
});
afterAll(async () => {
  await t?.dispose();
});

const submit = async () => (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1 } } })).body.data.submitJob.job.id as string;
/** The stream sequence of the job's current message: its newest published outbox entry's (no worker claims here). */
const seqOf = async (id: string) =>
  (
    await t.app.deps.sql`select (select stream_seq from outbox o where o.job_id = jobs.id and stream_seq is not null
                          order by o.id desc limit 1)::int as s from jobs where id = ${id}`
  )[0]!.s as number | null;
const idAt = async (seq: number) => (await t.app.deps.nats.jsm.streams.getMessage(t.app.deps.names.jobsStream, { seq }))?.json<{ id: string }>().id;

it('re-queues the waiting jobs whose messages went with the old stream at once, and leaves a new one alone', async () => {
  const { nats, names, relay } = t.app.deps;
  const before = await submit();
  await eventually(async () => (await seqOf(before)) !== null, 'it is published');
  const lostSeq = (await seqOf(before))!;

  const { config } = await nats.jsm.streams.info(names.jobsStream);
  expect(await nats.jsm.streams.delete(names.jobsStream)).toBe(true);
  await nats.jsm.streams.add(config);
  const after = await submit();
  await eventually(async () => (await seqOf(after)) !== null, 'the new job is published into the new stream');
  const afterSeq = (await seqOf(after))!;

  await relay.reconcileOnce();
  await eventually(async () => {
    const s = await seqOf(before);
    return s !== null && s !== lostSeq;
  }, 'the job from before is re-queued', 30_000);
  expect(await idAt((await seqOf(before))!)).toBe(before);
  expect(await seqOf(after)).toBe(afterSeq);
  expect((await nats.jsm.streams.info(names.jobsStream)).state.messages).toBe(2);
});
