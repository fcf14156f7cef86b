/**
 * One receiver cannot take every notifier slot: a webhook receiver that never answers, with more
 * deliveries waiting than the notifier has slots, leaves room for another receiver's delivery, which is sent
 * while the silent receiver's attempts are still waiting for their timeout.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql } from '../support/graphql.js';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';

const SUBMIT_MANY = /* GraphQL */ `
  mutation Submit($inputs: [SubmitJobInput!]!) {
    submitJobs(inputs: $inputs) { jobs { id } userErrors { code field message } }
  }
`;
const NOTIFICATIONS = /* GraphQL */ `
  query Job($id: ID!) { job(id: $id) { id notifications { status attempts lastError } } }
`;

/** A receiver that reads each request and never answers it. */
async function startSilentReceiver() {
  let received = 0;
  const server = http.createServer((req) => {
    req.resume();
    req.on('end', () => void received++);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    get received() {
      return received;
    },
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

let t: TestApp;
let silent: Awaited<ReturnType<typeof startSilentReceiver>>;
let receiver: WebhookReceiver;
beforeAll(async () => {
  silent = await startSilentReceiver();
  receiver = await startWebhookReceiver();
  t = await startTestApp({
    config: {
      WEBHOOK_SECRET: 'test-webhook-secret-0123456789',
      WEBHOOK_ALLOW_PRIVATE: '1',
      // Far beyond the test: the silent receiver's attempts stay open throughout.
      WEBHOOK_TIMEOUT_MS: '120000',
      NOTIFIER_CONCURRENCY: '4',
    },
  });
});
afterAll(async () => {
  await silent?.close(); // ends the open attempts, so the notifier stops at once
  await t?.dispose();
  await receiver?.close();
});

async function submitNotifying(url: string, n: number): Promise<string[]> {
  const inputs = Array.from({ length: n }, () => ({ type: 'demo.noop', payload: {}, notify: [{ webhook: url }] }));
  const r = await gql(t.url, SUBMIT_MANY, { inputs });
  expect(r.body.data.submitJobs.userErrors).toEqual([]);
  return r.body.data.submitJobs.jobs.map((j: { id: string }) => j.id);
}

const deliveryOf = async (id: string) => (await gql(t.url, NOTIFICATIONS, { id })).body.data.job.notifications[0];

describe('a receiver that never answers', () => {
  it('does not hold back the deliveries to other receivers', async () => {
    const stuck = await submitNotifying(silent.url, 12);
    await eventually(() => silent.received >= 3, 30_000, 'the silent receiver reached');

    const [id] = await submitNotifying(`${receiver.url}/healthy`, 1);
    expect(await eventually(async () => {
      const d = await deliveryOf(id!);
      return d?.status === 'SENT' ? d : undefined;
    }, 30_000, 'the healthy receiver\'s delivery sent')).toMatchObject({ status: 'SENT', attempts: 1 });

    // Sent while every delivery to the silent receiver is still waiting for its first answer.
    for (const s of stuck) expect(await deliveryOf(s)).toMatchObject({ status: 'PENDING', lastError: null });
  });
});
