/**
 * A dead receiver delays only its own notifications. Its deliveries wait for their next attempt (or for its
 * turn) in PostgreSQL, with their messages acked, not as nak'ed messages JetStream counts toward the
 * notifier consumer's max_ack_pending: with that limit at 3 and a dozen of them waiting, another receiver's
 * delivery is sent while every one of them still waits, and theirs are still retried and dead-lettered after
 * NOTIFY_MAX_ATTEMPTS, each attempt sent once, with two API processes sharing the work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql } from '../support/graphql.js';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';

const DEAD_DELIVERIES = 12;
const PENDING_LIMIT = 3;
const MAX_ATTEMPTS = 3;
const config = {
  WEBHOOK_SECRET: 'test-webhook-secret-0123456789',
  WEBHOOK_ALLOW_PRIVATE: '1',
  NOTIFIER_CONCURRENCY: '4',
  NOTIFY_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
  // Attempts 4 s and 8 s apart (±20 %): each dead delivery is PENDING for at least 9.6 s after its first.
  NOTIFY_BACKOFF_MS: '4000',
};

const SUBMIT_MANY = /* GraphQL */ `
  mutation Submit($inputs: [SubmitJobInput!]!) {
    submitJobs(inputs: $inputs) { jobs { id } userErrors { code field message } }
  }
`;
const NOTIFICATIONS = /* GraphQL */ `
  query Job($id: ID!) { job(id: $id) { id notifications { id status attempts lastError nextAttemptAt } } }
`;

let t: TestApp;
let second: TestApp;
let dead: WebhookReceiver;
let healthy: WebhookReceiver;
beforeAll(async () => {
  dead = await startWebhookReceiver();
  dead.script('/down', [503]);
  healthy = await startWebhookReceiver(); // another host:port, so another receiver
  t = await startTestApp({ config });
  second = await startTestApp({ env: t.env, config, handlers: null }); // another API process: notifier and relay
  // After both ensured the consumer: JetStream hands the notifiers at most 3 unacked messages in all.
  const { names, nats } = t.app.deps;
  await nats.jsm.consumers.update(names.notificationsStream, names.notifierConsumer, { max_ack_pending: PENDING_LIMIT });
});
afterAll(async () => {
  await second?.dispose();
  await t?.dispose();
  await dead?.close();
  await healthy?.close();
});

async function submitNotifying(url: string, n: number): Promise<string[]> {
  const inputs = Array.from({ length: n }, () => ({ type: 'demo.noop', payload: {}, notify: [{ webhook: url }] }));
  const r = await gql(t.url, SUBMIT_MANY, { inputs });
  expect(r.body.data.submitJobs.userErrors).toEqual([]);
  return r.body.data.submitJobs.jobs.map((j: { id: string }) => j.id);
}

type Delivery = { id: string; status: string; attempts: number; lastError: string | null; nextAttemptAt: string | null };
const deliveryOf = async (jobId: string): Promise<Delivery | undefined> =>
  (await gql(t.url, NOTIFICATIONS, { id: jobId })).body.data.job.notifications[0];
const deliveriesOf = (jobIds: string[]) => Promise.all(jobIds.map(deliveryOf));

describe('a receiver that is down, with more deliveries waiting than the consumer may have pending', () => {
  it('does not hold back another receiver\'s delivery, and its own are still retried, then dead-lettered', async () => {
    const stuck = await submitNotifying(`${dead.url}/down`, DEAD_DELIVERIES);
    // More of them waiting for their next try than JetStream would let the notifiers have unacked.
    await eventually(async () => {
      const ds = await deliveriesOf(stuck);
      return ds.filter((d) => d?.status === 'PENDING' && d.nextAttemptAt !== null).length > PENDING_LIMIT + 2;
    }, 30_000, 'the dead receiver\'s deliveries waiting');
    expect(dead.requests.length).toBeGreaterThan(0);

    const [id] = await submitNotifying(`${healthy.url}/up`, 1);
    const sent = await eventually(async () => {
      const d = await deliveryOf(id!);
      return d?.status === 'SENT' ? d : undefined;
    }, 30_000, 'the healthy receiver\'s delivery sent');
    expect(sent).toMatchObject({ status: 'SENT', attempts: 1, lastError: null, nextAttemptAt: null });
    // Sent while every dead delivery still has attempts to go: it did not wait for their backoffs to run out.
    for (const d of await deliveriesOf(stuck)) {
      expect(d).toMatchObject({ status: 'PENDING' });
      expect(d!.attempts).toBeLessThan(MAX_ATTEMPTS);
    }

    // The dead receiver's deliveries: every attempt made, each sent once, then dead-lettered.
    const settled = await eventually(async () => {
      const ds = await deliveriesOf(stuck);
      return ds.every((d) => d?.status === 'FAILED') ? ds : undefined;
    }, 150_000, 'the dead receiver\'s deliveries dead-lettered');
    for (const d of settled) {
      expect(d).toMatchObject({ status: 'FAILED', attempts: MAX_ATTEMPTS, lastError: 'HTTP 503: receiver says no', nextAttemptAt: null });
      expect(dead.requests.filter((r) => r.headers['longrun-delivery-id'] === d!.id)).toHaveLength(MAX_ATTEMPTS);
    }
    expect(dead.requests).toHaveLength(DEAD_DELIVERIES * MAX_ATTEMPTS);
    expect(healthy.requests).toHaveLength(1);
  }, 200_000);
});
