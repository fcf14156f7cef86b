/**
 * A crash between "job finished" and "notification sent" still sends it, once. The first app finishes the
 * job with no notifier and a relay that never runs a pass, and is stopped right after the terminal
 * transition committed: the delivery and its outbox entry exist, nothing was published or sent. A second
 * app started afterwards (another process, in production) publishes the entry and its notifier sends it.
 * A notifier that died during a delivery's last attempt leaves it to the next, which dead-letters it unsent
 * with the attempts that were made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, startTestApp, type TestEnv } from '../support/app.js';
import { gql, waitForJob } from '../support/graphql.js';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';

const config = { WEBHOOK_SECRET: 'crash-test-secret-0123456789', WEBHOOK_ALLOW_PRIVATE: '1' };
const SUBMIT = /* GraphQL */ `
  mutation Submit($input: SubmitJobInput!) { submitJob(input: $input) { job { id } userErrors { code } } }
`;
const NOTIFICATIONS = /* GraphQL */ `
  query Job($id: ID!) { job(id: $id) { state notifications { id status attempts } } }
`;

let env: TestEnv;
let receiver: WebhookReceiver;
beforeAll(async () => {
  env = await createTestEnv();
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiver?.close();
  await env?.dispose();
});

describe('a crash between the terminal state and the send', () => {
  it('still delivers the notification, exactly once, when a notifier starts later', async () => {
    const first = await startTestApp({ env, config: { ...config, NOTIFIER_CONCURRENCY: '0', RELAY_INTERVAL_MS: '60000' } });
    const r = await gql(first.url, SUBMIT, {
      input: { type: 'demo.sleep', payload: { ms: 10, steps: 1 }, notify: [{ webhook: `${receiver.url}/hook` }] },
    });
    const id = r.body.data.submitJob.job.id as string;
    const done = await waitForJob(first.url, id, (j) => j.state === 'SUCCEEDED');
    expect(done.state).toBe('SUCCEEDED');
    await first.dispose(); // "killed": nothing after the terminal transition ran

    // Committed with the transition: the delivery (PENDING) and its unpublished outbox entry.
    const deliveries = await env.sql`select id, status, attempts from notification_deliveries where job_id = ${id}`;
    expect(deliveries).toEqual([{ id: expect.any(String), status: 'PENDING', attempts: 0 }]);
    const outbox = await env.sql`select msg_id, published_at from outbox where msg_id = ${deliveries[0]!.id}`;
    expect(outbox).toEqual([{ msg_id: deliveries[0]!.id, published_at: null }]);
    expect(receiver.requests).toHaveLength(0);

    const second = await startTestApp({ env, config, handlers: null });
    try {
      const job = await eventually(async () => {
        const j = (await gql(second.url, NOTIFICATIONS, { id })).body.data.job;
        return j.notifications[0]?.status === 'SENT' ? j : undefined;
      }, 30_000, 'delivery sent');
      expect(job.notifications).toEqual([{ id: deliveries[0]!.id, status: 'SENT', attempts: 1 }]);
      await new Promise((res) => setTimeout(res, 1000)); // a duplicate would arrive now
      expect(receiver.requests).toHaveLength(1);
      expect(receiver.requests[0]!.headers['longrun-delivery-id']).toBe(deliveries[0]!.id);
    } finally {
      await second.dispose();
    }
  });

  it('dead-letters a delivery whose notifier died during its last attempt, counting the attempts made', async () => {
    const limits = { ...config, NOTIFY_MAX_ATTEMPTS: '2' };
    const first = await startTestApp({ env, config: { ...limits, NOTIFIER_CONCURRENCY: '0', RELAY_INTERVAL_MS: '60000' } });
    const r = await gql(first.url, SUBMIT, { input: { type: 'demo.noop', payload: {}, notify: [{ webhook: `${receiver.url}/last` }] } });
    const id = r.body.data.submitJob.job.id as string;
    await waitForJob(first.url, id, (j) => j.state === 'SUCCEEDED');
    await first.dispose();
    // As a notifier leaves it that began the second (last) attempt, after a 503, and died mid-send.
    await env.sql`update notification_deliveries set attempts = 2, last_error = 'HTTP 503' where job_id = ${id}`;

    const second = await startTestApp({ env, config: limits, handlers: null });
    try {
      const job = await eventually(async () => {
        const j = (await gql(second.url, `query J($id: ID!) { job(id: $id) { notifications { status attempts lastError } } }`, { id })).body.data.job;
        return j.notifications[0]?.status === 'FAILED' ? j : undefined;
      }, 30_000, 'delivery dead-lettered');
      expect(job.notifications).toEqual([{ status: 'FAILED', attempts: 2, lastError: 'HTTP 503' }]);
      expect(receiver.requests.filter((q) => q.path === '/last')).toHaveLength(0);
    } finally {
      await second.dispose();
    }
  });
});
