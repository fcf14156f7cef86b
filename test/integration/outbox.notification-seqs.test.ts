/**
 * The outbox holds two kinds of entries for a job: its messages on the jobs stream and its notification
 * deliveries on the notifications stream (a replayed job keeps the delivery entries of its earlier series).
 * Their stream sequences are of two streams, so the look-ups of a job's message by sequence (the reconciler's
 * "is its message still there?", the dead-letter recorder's job of a max-deliveries advisory whose message is
 * gone) read only the job's message entries: a delivery's sequence named neither the job's message nor it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql, SUBMIT } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/streams.js';
import { findStaleJobs } from '../../src/db/stale-jobs.js';
import { findJobByMsgSeq } from '../../src/db/dead-letters.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

it('finds a job by its message’s sequence on the jobs stream, never by a notification delivery’s', async () => {
  const sql = t.app.deps.sql;
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } })).body.data.submitJob.job.id as string;
  const published = async () =>
    (await sql`select stream_seq::int as s from outbox where job_id = ${id} and stream_seq is not null`)[0]?.s as number | undefined;
  await eventually(async () => (await published()) !== undefined, 'the job message is published');
  const messageSeq = (await published())!;
  // A delivery entry of the job, published on the notifications stream at a sequence past the message's (as a
  // replayed job keeps one of its earlier series), and the job left untouched long enough for the reconciler.
  const deliverySeq = messageSeq + 1000;
  await sql`insert into outbox (job_id, subject, msg_id, body, published_at, stream_seq)
            values (${id}, ${`${t.app.deps.names.notificationSubject}`}, ${`delivery-of-${id}`},
                    ${sql.json({ deliveryId: id, channel: 'WEBHOOK', target: 'http://127.0.0.1:9/hook', requeue: 0 })}, now(), ${deliverySeq})`;
  await sql`update jobs set updated_at = now() - interval '1 hour' where id = ${id}`;

  const stale = (await findStaleJobs(sql, 1000, 100)).find((j) => j.id === id);
  expect(stale?.messageSeq).toBe(messageSeq);
  expect(await findJobByMsgSeq(sql, deliverySeq)).toBeNull();
  expect((await findJobByMsgSeq(sql, messageSeq))?.id).toBe(id);
});
