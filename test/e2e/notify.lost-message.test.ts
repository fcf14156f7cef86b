/**
 * A notification whose message JetStream lost (a power loss on nats-server 2.9, a purged stream) is still
 * sent: the reconciler finds the delivery waiting to be sent from a message the stream no longer has and
 * queues a new one. A delivery whose message is still in the stream (behind a backlog: here no notifier runs
 * yet) keeps its message and its place.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, waitForJob } from '../support/graphql.js';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';

const config = {
  WEBHOOK_SECRET: 'test-webhook-secret-0123456789',
  WEBHOOK_ALLOW_PRIVATE: '1',
  RELAY_INTERVAL_MS: '100', // the reconciler runs every tenth relay pass: about every second
  RECONCILE_AFTER_MS: '1000',
};

const SUBMIT = /* GraphQL */ `
  mutation Submit($input: SubmitJobInput!) { submitJob(input: $input) { job { id } userErrors { code message } } }
`;
const NOTIFICATIONS = /* GraphQL */ `
  query Job($id: ID!) { job(id: $id) { notifications { id status attempts } } }
`;

let receiver: WebhookReceiver;
/** Workers, relay and reconciler; no notifier, so the notification messages stay in the stream. */
let t: TestApp;
/** Started later: the notifier. */
let notifier: TestApp | undefined;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  t = await startTestApp({ config: { ...config, NOTIFIER_CONCURRENCY: '0' } });
});
afterAll(async () => {
  await notifier?.dispose();
  await t?.dispose();
  await receiver?.close();
});

async function submitNotifying(path: string): Promise<{ jobId: string; deliveryId: string }> {
  const r = await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {}, notify: [{ webhook: `${receiver.url}${path}` }] } });
  expect(r.body.data.submitJob.userErrors).toEqual([]);
  const jobId = r.body.data.submitJob.job.id as string;
  await waitForJob(t.url, jobId, (j) => j.state === 'SUCCEEDED');
  const [d] = (await gql(t.url, NOTIFICATIONS, { id: jobId })).body.data.job.notifications;
  return { jobId, deliveryId: d.id as string };
}

/** Where the stream holds a delivery's latest message, once the relay has published it, and its number. */
async function messageOf(deliveryId: string): Promise<{ seq: number; requeues: number } | undefined> {
  const [d] = await t.env.sql<{ seq: number | null; requeues: number }[]>`
    select msg_seq::float8 as seq, requeues from notification_deliveries where id = ${deliveryId}`;
  return d?.seq ? { seq: d.seq, requeues: d.requeues } : undefined;
}

it('sends a notification whose message the stream lost, once; one still in the stream keeps its message', async () => {
  const kept = await submitNotifying('/kept');
  const lost = await submitNotifying('/lost');
  const keptMsg = await eventually(() => messageOf(kept.deliveryId), 10_000, 'the kept message published');
  const lostMsg = await eventually(() => messageOf(lost.deliveryId), 10_000, 'the lost message published');

  const { nats, names } = t.app.deps;
  expect(await nats.jsm.streams.deleteMessage(names.notificationsStream, lostMsg.seq)).toBe(true);

  // The reconciler has a new message (its second) queued and published for the lost one, and leaves the kept one alone.
  await eventually(async () => (await messageOf(lost.deliveryId))?.requeues === 1, 20_000, 'a new message for the lost delivery');
  expect(await messageOf(kept.deliveryId)).toEqual(keptMsg);
  expect(keptMsg.requeues).toBe(0);
  expect(await nats.jsm.streams.getMessage(names.notificationsStream, { seq: keptMsg.seq })).not.toBeNull();

  notifier = await startTestApp({ env: t.env, handlers: null, config: { ...config, NOTIFIER_CONCURRENCY: '2' } });
  for (const { jobId } of [kept, lost]) {
    await eventually(async () => {
      const [d] = (await gql(t.url, NOTIFICATIONS, { id: jobId })).body.data.job.notifications;
      return d.status === 'SENT';
    }, 20_000, `job ${jobId}'s notification sent`);
  }
  expect(receiver.requests.map((r) => r.path).sort()).toEqual(['/kept', '/lost']);
});
