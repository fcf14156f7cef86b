/**
 * Notification deliveries whose messages wait in the stream: an app with workers, relay and reconciler but no
 * notifier (`NOTIFIER_CONCURRENCY` 0), a webhook receiver, and the notifier started later on the same
 * database. For the tests of messages the stream lost.
 */
import { expect } from 'vitest';
import { startTestApp, type TestApp } from './app.js';
import { gql, SUBMIT, waitForJob } from './graphql.js';
import { eventually, startWebhookReceiver, type WebhookReceiver } from './receivers.js';

const NOTIFICATIONS = /* GraphQL */ `
  query Job($id: ID!) { job(id: $id) { notifications { id status attempts } } }
`;

export interface WaitingNotifications {
  t: TestApp;
  receiver: WebhookReceiver;
  /** Runs a `demo.noop` job notifying `receiver` at `path`; answers once it SUCCEEDED, with its delivery. */
  submitNotifying(path: string): Promise<{ jobId: string; deliveryId: string }>;
  /** Where the stream holds a delivery's latest message, once the relay has published it, and its number. */
  messageOf(deliveryId: string): Promise<{ seq: number; requeues: number } | undefined>;
  /** Starts the notifier and waits until each job's notification is SENT. */
  sendAll(jobIds: readonly string[]): Promise<void>;
  dispose(): Promise<void>;
}

/** `reconcileAfterMs`: the app's RECONCILE_AFTER_MS; its reconciler runs about every second. */
export async function startWaitingNotifications(reconcileAfterMs: number): Promise<WaitingNotifications> {
  const config = {
    WEBHOOK_SECRET: 'test-webhook-secret-0123456789',
    WEBHOOK_ALLOW_PRIVATE: '1',
    RELAY_INTERVAL_MS: '100', // the reconciler runs every tenth relay pass: about every second
    RECONCILE_AFTER_MS: String(reconcileAfterMs),
  };
  const receiver = await startWebhookReceiver();
  const t = await startTestApp({ config: { ...config, NOTIFIER_CONCURRENCY: '0' } });
  let notifier: TestApp | undefined;
  const notificationOf = async (jobId: string) => (await gql(t.url, NOTIFICATIONS, { id: jobId })).body.data.job.notifications[0];
  return {
    t,
    receiver,
    async submitNotifying(path) {
      const r = await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {}, notify: [{ webhook: `${receiver.url}${path}` }] } });
      expect(r.body.data.submitJob.userErrors).toEqual([]);
      const jobId = r.body.data.submitJob.job.id as string;
      await waitForJob(t.url, jobId, (j) => j.state === 'SUCCEEDED');
      return { jobId, deliveryId: (await notificationOf(jobId)).id as string };
    },
    async messageOf(deliveryId) {
      const [d] = await t.env.sql<{ seq: number | null; requeues: number }[]>`
        select msg_seq::float8 as seq, requeues from notification_deliveries where id = ${deliveryId}`;
      return d?.seq ? { seq: d.seq, requeues: d.requeues } : undefined;
    },
    async sendAll(jobIds) {
      notifier = await startTestApp({ env: t.env, handlers: null, config: { ...config, NOTIFIER_CONCURRENCY: '2' } });
      for (const jobId of jobIds) {
        await eventually(async () => (await notificationOf(jobId)).status === 'SENT', 20_000, `job ${jobId}'s notification sent`);
      }
    },
    async dispose() {
      await notifier?.dispose();
      await t.dispose();
      await receiver.close();
    },
  };
}
