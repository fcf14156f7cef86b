/**
 * The reconciler: a QUEUED job whose message JetStream lost (a power loss on a 2.9 server, a purge) is
 * re-queued from PostgreSQL, the source of truth.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql, SUBMIT } from '../support/graphql.js';
import { createTestEnv, startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/streams.js';
import { purgePublished } from '../../src/db/outbox.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null, config: { RECONCILE_AFTER_MS: '1000' } });
});
afterAll(async () => {
  await t?.dispose();
});

const submit = async () => (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1 } } })).body.data.submitJob.job.id as string;
// The stream sequence of the job's current message: its newest published outbox entry's until a worker claims it.
const seqOf = async (id: string) =>
  (
    await t.app.deps.sql`select coalesce(msg_seq, (select stream_seq from outbox o where o.job_id = jobs.id and stream_seq is not null
                          order by o.id desc limit 1))::int as s from jobs where id = ${id}`
  )[0]!.s as number | null;

it('re-publishes a queued job whose message is gone, and leaves alone one whose message is there', async () => {
  const { nats, names } = t.app.deps;
  const lost = await submit();
  const kept = await submit();
  await eventually(async () => (await seqOf(lost)) !== null && (await seqOf(kept)) !== null, 'both are published');
  const lostSeq = (await seqOf(lost))!;
  const keptSeq = (await seqOf(kept))!;
  expect(await nats.jsm.streams.deleteMessage(names.jobsStream, lostSeq)).toBe(true);

  await eventually(async () => {
    const s = await seqOf(lost);
    return s !== null && s !== lostSeq;
  }, 'the lost job is re-queued', 30_000);
  const again = await nats.jsm.streams.getMessage(names.jobsStream, { seq: (await seqOf(lost))! });
  expect(again?.json<{ id: string }>().id).toBe(lost);
  expect(await seqOf(kept)).toBe(keptSeq);
  expect((await nats.jsm.streams.info(names.jobsStream)).state.messages).toBe(2);
});

it('a re-queued job is still as long queued as before, and the next pass leaves it alone', async () => {
  const { nats, names, relay, sql } = t.app.deps;
  const lost = await submit();
  await eventually(async () => (await seqOf(lost)) !== null, 'it is published');
  const lostSeq = (await seqOf(lost))!;
  await sql`update jobs set created_at = created_at - interval '1 hour', updated_at = updated_at - interval '1 hour' where id = ${lost}`;
  expect(await nats.jsm.streams.deleteMessage(names.jobsStream, lostSeq)).toBe(true);
  await eventually(async () => {
    const s = await seqOf(lost);
    return s !== null && s !== lostSeq;
  }, 'the lost job is re-queued', 30_000);

  const stats = (await gql(t.url, '{ queueStats { type oldestQueuedAgeSeconds } }')).body.data.queueStats;
  expect(stats.find((s: { type: string }) => s.type === 'demo.sleep').oldestQueuedAgeSeconds).toBeGreaterThanOrEqual(3600);
  expect(await relay.reconcileOnce()).toBe(0);
});

it('goes on past a backlog of waiting jobs whose messages are there, to a lost one behind it', async () => {
  const { nats, names, relay, sql } = t.app.deps;
  // More than one pass checks (200) of old waiting jobs with their messages, then a younger lost one.
  const inputs = Array.from({ length: 250 }, () => ({ type: 'demo.sleep', payload: { ms: 1 } }));
  const backlog = (await gql(t.url, `mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id } } }`, { inputs }))
    .body.data.submitJobs.jobs.map((j: { id: string }) => j.id) as string[];
  const lost = await submit();
  await eventually(async () => (await seqOf(lost)) !== null && (await seqOf(backlog.at(-1)!)) !== null, 'all are published');
  await sql`update jobs set updated_at = updated_at - interval '2 hours' where id = any(${backlog})`;
  await sql`update jobs set updated_at = updated_at - interval '1 hour' where id = ${lost}`;
  const lostSeq = (await seqOf(lost))!;
  expect(await nats.jsm.streams.deleteMessage(names.jobsStream, lostSeq)).toBe(true);

  // Each pass checks 200 (the relay's own passes run too): within a few, the lost one is reached.
  for (let i = 0; i < 4 && (await seqOf(lost)) === lostSeq; i++) await relay.reconcileOnce();
  await eventually(async () => {
    const s = await seqOf(lost);
    return s !== null && s !== lostSeq;
  }, 'the lost job is re-queued', 30_000);
});

it("re-queues a waiting job whose sequence holds another job's message in a stream made again", async () => {
  // Deleted and made again (an operator's mistake, a lost server), the stream numbers its messages from 1
  // again, so the sequence a waiting job's message had may hold another job's message.
  const { nats, names, relay, sql } = t.app.deps;
  const waiting = await submit();
  await eventually(async () => (await seqOf(waiting)) !== null, 'it is published');
  const seq = (await seqOf(waiting))!;
  const idAt = async (at: number) => (await nats.jsm.streams.getMessage(names.jobsStream, { seq: at }))?.json<{ id: string }>().id;

  const { config } = await nats.jsm.streams.info(names.jobsStream);
  expect(await nats.jsm.streams.delete(names.jobsStream)).toBe(true);
  await nats.jsm.streams.add(config);
  // New jobs (and the earlier tests' waiting jobs, re-queued as their messages are gone) fill it up to there.
  while ((await nats.jsm.streams.info(names.jobsStream)).state.last_seq < seq) {
    const other = await submit();
    await eventually(async () => (await seqOf(other)) !== null, 'it is published');
  }
  expect(await idAt(seq)).not.toBe(waiting);

  await sql`update jobs set updated_at = updated_at - interval '1 hour' where id = ${waiting}`;
  for (let i = 0; i < 4 && (await seqOf(waiting)) === seq; i++) await relay.reconcileOnce();
  await eventually(async () => {
    const s = await seqOf(waiting);
    return s !== null && s !== seq;
  }, 'the waiting job is re-queued', 30_000);
  expect(await idAt((await seqOf(waiting))!)).toBe(waiting);
});

it('re-queues a running job whose worker and message are both gone once, not again when old outbox entries are purged', async () => {
  // Its worker died (the lease ran out an hour ago) and JetStream lost its message too. The re-queue clears
  // msg_seq, so the new message's sequence is only on its outbox entry until a claim records it; the purge of
  // old published entries (every tenth relay pass, entries older than 10 minutes) used to delete that entry,
  // and the next pass, finding no message for the job, published another copy: one every 10 minutes for as
  // long as no worker pulled.
  const { nats, names, relay, sql } = t.app.deps;
  const running = await submit();
  await eventually(async () => (await seqOf(running)) !== null, 'it is published');
  const seq = (await seqOf(running))!;
  await sql`update jobs set state = 'RUNNING', attempts = 1, msg_seq = ${seq}, lease_until = now() - interval '1 hour',
              updated_at = now() - interval '1 hour' where id = ${running}`;
  expect(await nats.jsm.streams.deleteMessage(names.jobsStream, seq)).toBe(true);
  await eventually(async () => {
    const s = await seqOf(running);
    return s !== null && s !== seq;
  }, 'the running job is re-queued', 30_000);

  await purgePublished(sql, 0); // as the relay's purge does ten minutes later
  for (let i = 0; i < 3; i++) expect(await relay.reconcileOnce()).toBe(0);
  const copies = await nats.jsm.streams.info(names.jobsStream, { subjects_filter: names.jobSubject('demo.sleep') });
  const ids: string[] = [];
  for (let s = copies.state.first_seq; s <= copies.state.last_seq; s++) {
    const m = await nats.jsm.streams.getMessage(names.jobsStream, { seq: s }).catch(() => null);
    const id = m?.json<{ id: string }>().id;
    if (id === running) ids.push(id);
  }
  expect(ids).toEqual([running]);
});

it('re-queues a waiting job once in a stream made again that has not reached its old sequence yet', async () => {
  // The new message's sequence is lower than the lost one's. The reconciler took the highest sequence of the
  // job's outbox entries for its message: the lost one's, so every pass found it gone and published another copy.
  const own = await createTestEnv();
  const app = await startTestApp({ env: own, handlers: null, config: { RECONCILE_AFTER_MS: '1000' } });
  try {
    const { nats, names, relay, sql } = app.app.deps;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await gql(app.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1 } } })).body.data.submitJob.job.id);
    const waiting = ids.at(-1)!;
    await eventually(async () => (await sql`select 1 from outbox where job_id = ${waiting} and stream_seq = 5`).length > 0, 'the last is published at 5');
    for (const id of ids.slice(0, -1)) await gql(app.url, `mutation($id: ID!) { cancelJob(id: $id) { job { state } } }`, { id });

    const { config } = await nats.jsm.streams.info(names.jobsStream);
    expect(await nats.jsm.streams.delete(names.jobsStream)).toBe(true);
    await nats.jsm.streams.add(config);
    await sql`update jobs set updated_at = updated_at - interval '1 hour' where id = ${waiting}`;
    const copies = async () => (await nats.jsm.streams.info(names.jobsStream)).state.messages;
    await eventually(async () => (await copies()) === 1, 'the waiting job is re-queued', 30_000);
    await eventually(async () => (await sql`select 1 from outbox where job_id = ${waiting} and stream_seq = 1`).length > 0, 'at 1');
    for (let i = 0; i < 3; i++) expect(await relay.reconcileOnce()).toBe(0);
    expect(await copies()).toBe(1);
    expect((await nats.jsm.streams.getMessage(names.jobsStream, { seq: 1 }))?.json<{ id: string }>().id).toBe(waiting);
  } finally {
    await app.dispose();
    await own.dispose(); // the app removes only an env it made itself
  }
});
