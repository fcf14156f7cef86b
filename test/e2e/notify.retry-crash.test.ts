/**
 * A delivery waiting in PostgreSQL for its next attempt survives a crash at each step of its way back, and
 * stray copies of its messages do nothing: the receiver gets each attempt once.
 * - The notifier recorded the next attempt, then died before its ack reached JetStream: the message comes
 *   again, and starts nothing while the delivery waits.
 * - The re-queue pass died before its commit: the delivery is still due.
 * - The pass committed, then its process died before publishing: the entry waits in the outbox, and the
 *   relay of another process publishes it.
 * - Late copies of the first message and of the re-queued one, once the delivery is SENT: nothing.
 * The app's relay loop waits a minute between passes, so each step is run here, by hand.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../../src/db/client.js';
import { requeueDueDeliveries } from '../../src/db/notifications.js';
import { encode } from '../../src/messaging/messages.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql } from '../support/graphql.js';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';

const SUBMIT = /* GraphQL */ `
  mutation Submit($input: SubmitJobInput!) { submitJob(input: $input) { job { id } userErrors { code } } }
`;
const NOTIFICATIONS = /* GraphQL */ `
  query Job($id: ID!) { job(id: $id) { notifications { id status attempts lastError nextAttemptAt } } }
`;

let t: TestApp;
let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  receiver.script('/flaky', [503, 200]);
  t = await startTestApp({
    handlers: null,
    config: { WEBHOOK_SECRET: 'crash-test-secret-0123456789', WEBHOOK_ALLOW_PRIVATE: '1', NOTIFY_BACKOFF_MS: '100', RELAY_INTERVAL_MS: '60000' },
  });
});
afterAll(async () => {
  await t?.dispose();
  await receiver?.close();
});

type Delivery = { id: string; status: string; attempts: number; lastError: string | null; nextAttemptAt: string | null };
const deliveryOf = async (jobId: string): Promise<Delivery> => (await gql(t.url, NOTIFICATIONS, { id: jobId })).body.data.job.notifications[0];

/** Publishes a copy of a delivery's message (a new msg id: JetStream's dedupe would drop it) and waits until the notifier acked it. */
async function publishCopy(body: unknown, msgId: string): Promise<void> {
  const { nats, names } = t.app.deps;
  const ack = await nats.js.publish(names.notificationSubject, encode(body), { msgID: msgId });
  await eventually(async () => {
    const c = await nats.jsm.consumers.info(names.notificationsStream, names.notifierConsumer);
    return c.delivered.stream_seq >= ack.seq && c.num_pending === 0 && c.num_ack_pending === 0;
  }, 10_000, `the copy ${msgId} handled`);
}

describe('a delivery waiting for its next attempt', () => {
  it('comes back once, whatever step a crash interrupts, and copies of its messages do nothing', async () => {
    const { sql } = t.env;
    const r = await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {}, notify: [{ webhook: `${receiver.url}/flaky`, on: ['CANCELLED'] }] } });
    const jobId = r.body.data.submitJob.job.id as string;
    await gql(t.url, `mutation C($id: ID!) { cancelJob(id: $id) { userErrors { code } } }`, { id: jobId });
    await t.app.deps.relay.runOnce(); // publishes the terminal transition's message

    const waiting = await eventually(async () => {
      const d = await deliveryOf(jobId);
      return d?.attempts === 1 && d.nextAttemptAt !== null ? d : undefined;
    }, 30_000, 'the first attempt failed and the delivery waiting');
    expect(waiting).toMatchObject({ status: 'PENDING', lastError: 'HTTP 503: receiver says no' });
    const [first] = await sql<{ body: unknown }[]>`select body from outbox where msg_id = ${waiting.id}`;

    // The notifier's ack lost: JetStream hands the first message out again. It starts no attempt.
    await publishCopy(first!.body, `${waiting.id}:lost-ack`);
    expect(await deliveryOf(jobId)).toEqual(waiting);
    expect(receiver.requests).toHaveLength(1);

    // The re-queue pass dies before its commit: the delivery is still due, with no new message.
    await eventually(async () => (await sql`select 1 from notification_deliveries where id = ${waiting.id} and next_attempt_at <= now()`).length > 0,
      10_000, 'the next attempt due');
    const crashed = sql.begin(async (tx) => {
      expect(await requeueDueDeliveries(tx as unknown as Sql, 10)).toHaveLength(1);
      throw new Error('the process died before the commit');
    });
    await expect(crashed).rejects.toThrow('died');
    expect(await deliveryOf(jobId)).toEqual(waiting);

    // The pass commits, and its process dies before publishing: the delivery no longer waits, its entry does.
    const [entry] = await requeueDueDeliveries(sql as unknown as Sql, 10);
    expect(entry).toMatchObject({ msgId: `${waiting.id}:1`, body: { deliveryId: waiting.id, requeue: 1 } });
    expect(await deliveryOf(jobId)).toEqual({ ...waiting, nextAttemptAt: null });
    expect(await sql`select published_at from outbox where msg_id = ${entry!.msgId}`).toEqual([{ published_at: null }]);

    // Another process's relay publishes it; the second attempt goes through.
    await t.app.deps.relay.runOnce();
    const sent = await eventually(async () => {
      const d = await deliveryOf(jobId);
      return d?.status === 'SENT' ? d : undefined;
    }, 30_000, 'the delivery sent');
    expect(sent).toMatchObject({ status: 'SENT', attempts: 2, nextAttemptAt: null });
    expect(receiver.requests.map((q) => [q.headers['longrun-delivery-id'], q.status])).toEqual([[waiting.id, 503], [waiting.id, 200]]);

    // Late copies of either message: nothing is sent again.
    await publishCopy(first!.body, `${waiting.id}:late-first`);
    await publishCopy(entry!.body, `${waiting.id}:late-requeued`);
    expect(await deliveryOf(jobId)).toEqual(sent);
    expect(receiver.requests).toHaveLength(2);
  });
});
