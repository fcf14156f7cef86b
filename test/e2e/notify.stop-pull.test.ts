/**
 * A notifier stopped while notifications are on their way to it hands every message its pull brought back
 * at once: none waits out the notifier's AckWait (here over a minute, from a long WEBHOOK_TIMEOUT_MS) unacked.
 * Notifier processes are stopped again and again while another process ends jobs and publishes their
 * notifications; a notifier started after them sends every delivery soon.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEnv, startTestApp, type TestEnv } from '../support/app.js';
import { gql } from '../support/graphql.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';

const ROUNDS = 6;
const JOBS = 60;
const config = { WEBHOOK_SECRET: 'stop-pull-secret-0123456789', WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_TIMEOUT_MS: '60000' };
const SUBMIT_JOBS = `mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { userErrors { code } } }`;

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

const statuses = async () =>
  env.sql<{ status: string; n: number }[]>`select status::text, count(*)::int as n from notification_deliveries group by status order by status`;

it('sends every delivery soon after notifiers were stopped as their messages came', async () => {
  // Runs the jobs and publishes their notifications; sends none.
  const producer = await startTestApp({ env, config: { ...config, NOTIFIER_CONCURRENCY: '0' } });
  const notifierApp = () => startTestApp({ env, config, handlers: null });
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const app = await notifierApp();
      const inputs = Array.from({ length: JOBS }, () => ({
        type: 'demo.sleep',
        payload: { ms: 0, steps: 0 },
        notify: [{ webhook: `${receiver.url}/hook` }],
      }));
      expect((await gql(producer.url, SUBMIT_JOBS, { inputs })).body.data.submitJobs.userErrors).toEqual([]);
      // Stopped as the jobs end and their notifications arrive (a little later each round).
      await new Promise((r) => setTimeout(r, 20 + round * 15));
      await app.dispose();
    }
    const last = await notifierApp();
    try {
      const deadline = Date.now() + 30_000;
      const sent = async () => (await statuses()).every((s) => s.status === 'SENT');
      while (Date.now() < deadline && !(await sent())) await new Promise((r) => setTimeout(r, 200));
      expect(await statuses()).toEqual([{ status: 'SENT', n: ROUNDS * JOBS }]);
      const ids = receiver.requests.map((r) => r.headers['longrun-delivery-id']);
      expect(new Set(ids).size).toBe(ROUNDS * JOBS);
    } finally {
      await last.dispose();
    }
  } finally {
    await producer.dispose();
  }
}, 180_000);
