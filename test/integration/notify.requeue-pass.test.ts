/**
 * The re-queue pass (`requeueDueDeliveries`): a notification delivery waiting in PostgreSQL for its next try
 * gets exactly one new outbox entry once it is due, however many API processes run the pass at once; a
 * message may start an attempt only for the delivery's latest message and never while it waits; a delivery
 * whose job retention deletes while a pass holds it is gone, and its new message starts nothing.
 */
import { expect, it } from 'vitest';
import type { Sql } from '../../src/db/client.js';
import { insertJobs } from '../../src/db/jobs.js';
import { markCancelled } from '../../src/db/cancel.js';
import type { OutboxEntry } from '../../src/db/outbox.js';
import {
  beginDeliveryAttempt,
  finishDelivery,
  insertNotifications,
  requeueDueDeliveries,
  waitForNextAttempt,
} from '../../src/db/notifications.js';
import { deleteJobs } from '../../src/db/retention.js';
import { newJob, useTestDb } from '../support/app.js';
import { eventually } from '../support/receivers.js';

const t = useTestDb(6);
const SUBJECT = 'test.notifications';
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/**
 * `n` deliveries (10 per job, from cancelling the jobs: the terminal transition makes them), each after a
 * failed attempt waiting for its next one, due at once. Answers them with their jobs.
 */
async function dueDeliveries(n: number): Promise<{ id: string; jobId: string }[]> {
  const sql = t.db.sql;
  const jobs = Array.from({ length: Math.ceil(n / 10) }, () => newJob({ traceparent: TRACEPARENT }));
  await insertJobs(sql, jobs);
  await insertNotifications(sql, jobs.flatMap((j) => Array.from({ length: 10 }, (_, i) => ({
    jobId: j.id, channel: 'WEBHOOK' as const, target: `http://hooks.example.com/${i}`, onStates: ['CANCELLED' as const], subject: SUBJECT,
  }))));
  for (const j of jobs) expect(await markCancelled(sql, { id: j.id })).not.toBeNull();
  const rows = await t.env.sql<{ id: string; jobId: string }[]>`
    select id, job_id as "jobId" from notification_deliveries where job_id = any(${jobs.map((j) => j.id)}) order by id limit ${n}`;
  for (const d of rows) {
    expect(await beginDeliveryAttempt(sql, { id: d.id, requeue: 0 })).not.toBeNull();
    expect(await waitForNextAttempt(sql, { id: d.id, requeue: 0, delayMs: 0, error: 'HTTP 503' })).toBe(true);
  }
  return rows;
}

const deliveryIdOf = (e: OutboxEntry) => (e.body as { deliveryId: string }).deliveryId;

/** Passes until one finds nothing due; every entry they made. */
async function passUntilDone(limit: number): Promise<OutboxEntry[]> {
  const made: OutboxEntry[] = [];
  for (;;) {
    const entries = await requeueDueDeliveries(t.db.sql, limit);
    if (!entries.length) return made;
    made.push(...entries);
  }
}

it('re-queues each due delivery once, with four passes running at once', async () => {
  const due = await dueDeliveries(400);
  // Four connections open first, so that no pass is done before the others have connected.
  await Promise.all(Array.from({ length: 4 }, () => t.db.sql`select pg_sleep(0.05)`));
  const passes = await Promise.all([passUntilDone(20), passUntilDone(20), passUntilDone(20), passUntilDone(20)]);
  expect(passes.filter((p) => p.length > 0).length).toBeGreaterThanOrEqual(2); // they did run side by side

  const made = passes.flat();
  expect(made.map(deliveryIdOf).sort()).toEqual(due.map((d) => d.id).sort());
  const stored = await t.env.sql<{ id: string; msgId: string; body: unknown; traceparent: string | null }[]>`
    select id, msg_id as "msgId", body, traceparent from outbox where subject = ${SUBJECT} and msg_id like '%:%'`;
  expect(stored.map((o) => ({ ...o, id: Number(o.id) })).sort((a, b) => a.id - b.id))
    .toEqual(made.map(({ id, msgId, body, traceparent }) => ({ id, msgId, body, traceparent })).sort((a, b) => a.id - b.id));
  for (const e of made) {
    const id = deliveryIdOf(e);
    expect(e).toMatchObject({ subject: SUBJECT, msgId: `${id}:1`, traceparent: TRACEPARENT });
    expect(e.body).toEqual({ deliveryId: id, channel: 'WEBHOOK', target: expect.stringMatching(/^http:\/\/hooks\.example\.com\/\d$/), requeue: 1 });
  }
  const rows = await t.env.sql`
    select count(*)::int as n from notification_deliveries where id = any(${due.map((d) => d.id)})
      and next_attempt_at is null and requeues = 1 and status = 'PENDING' and attempts = 1 and last_error = 'HTTP 503'`;
  expect(rows[0]!.n).toBe(due.length);
});

it('skips what a pass in progress holds, and finds it re-queued once that pass commits', async () => {
  const due = await dueDeliveries(10);
  let other: OutboxEntry[] = [];
  const first = await t.db.sql.begin(async (tx) => {
    const mine = await requeueDueDeliveries(tx as unknown as Sql, 4);
    other = await requeueDueDeliveries(t.db.sql, 100); // another API process, while this pass holds its rows
    return mine;
  });
  expect(first).toHaveLength(4);
  expect(other).toHaveLength(6);
  expect([...first, ...other].map(deliveryIdOf).sort()).toEqual(due.map((d) => d.id).sort());
  expect(await requeueDueDeliveries(t.db.sql, 100)).toEqual([]);
});

it('leaves a delivery due when its pass does not commit', async () => {
  const [d] = await dueDeliveries(1);
  const crash = t.db.sql.begin(async (tx) => {
    expect(await requeueDueDeliveries(tx as unknown as Sql, 10)).toHaveLength(1);
    throw new Error('the process died before the commit');
  });
  await expect(crash).rejects.toThrow('died');
  const [e] = await requeueDueDeliveries(t.db.sql, 10);
  expect(e).toMatchObject({ msgId: `${d!.id}:1`, body: { deliveryId: d!.id, requeue: 1 } });
  expect(await t.env.sql`select count(*)::int as n from outbox where msg_id like ${`${d!.id}:%`}`).toEqual([{ n: 1 }]);
});

it('starts an attempt only for the message a delivery expects, and never while it waits or once it is done', async () => {
  const [d] = await dueDeliveries(1);
  const id = d!.id;
  // Its first message again (JetStream redelivers it when the notifier's ack was lost): it waits, nothing starts.
  expect(await beginDeliveryAttempt(t.db.sql, { id, requeue: 0 })).toBeNull();
  expect(await requeueDueDeliveries(t.db.sql, 10)).toHaveLength(1);
  // Re-queued: the first message is an older one now; it neither starts an attempt nor reschedules.
  expect(await beginDeliveryAttempt(t.db.sql, { id, requeue: 0 })).toBeNull();
  expect(await waitForNextAttempt(t.db.sql, { id, requeue: 0, delayMs: 60_000 })).toBe(false);
  expect(await beginDeliveryAttempt(t.db.sql, { id, requeue: 1 })).toMatchObject({ id, attempts: 2, requeues: 1, nextAttemptAt: null });
  // A duplicate of the same message while the attempt runs starts no second one once the first is waiting.
  expect(await waitForNextAttempt(t.db.sql, { id, requeue: 1, delayMs: 60_000, error: 'HTTP 500' })).toBe(true);
  expect(await waitForNextAttempt(t.db.sql, { id, requeue: 1, delayMs: 0, error: 'HTTP 502' })).toBe(false);
  expect(await beginDeliveryAttempt(t.db.sql, { id, requeue: 1 })).toBeNull();
  // Sent by that attempt after all: done, and no longer waiting.
  expect(await finishDelivery(t.db.sql, { id, status: 'SENT' })).toBe(true);
  expect(await t.env.sql`select status, attempts, next_attempt_at, last_error from notification_deliveries where id = ${id}`)
    .toEqual([{ status: 'SENT', attempts: 2, next_attempt_at: null, last_error: 'HTTP 500' }]);
  expect(await beginDeliveryAttempt(t.db.sql, { id, requeue: 1 })).toBeNull();
});

it('re-queues nothing for a delivery whose job retention deletes while a pass holds it', async () => {
  const [d] = await dueDeliveries(1);
  let deleting: Promise<unknown> = Promise.resolve();
  const entries = await t.db.sql.begin(async (tx) => {
    const made = await requeueDueDeliveries(tx as unknown as Sql, 10);
    deleting = deleteJobs(t.db.sql, [d!.jobId]); // its delivery goes by cascade: waits for the pass's lock
    await eventually(async () => (await t.env.sql`
      select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`).length > 0,
    10_000, 'retention waiting for the pass');
    return made;
  });
  expect(entries.map(deliveryIdOf)).toEqual([d!.id]);
  expect(await deleting).toEqual([{ id: d!.jobId, type: 'demo.noop', state: 'CANCELLED' }]);
  expect(await t.env.sql`select id from notification_deliveries where job_id = ${d!.jobId}`).toEqual([]);
  // The pass's message, if published, finds no delivery to attempt; nothing is due any more.
  expect(await beginDeliveryAttempt(t.db.sql, { id: d!.id, requeue: 1 })).toBeNull();
  expect(await requeueDueDeliveries(t.db.sql, 10)).toEqual([]);
});
