/**
 * One receiver cannot take every notifier slot: a webhook receiver that never answers, with more
 * deliveries waiting than the notifier has slots, leaves room for another receiver's delivery, which is sent
 * while the silent receiver's attempts are still waiting for their timeout. A receiver that answers, but
 * slowly, with a backlog much larger than the slots, uses its share of them, and another receiver's delivery
 * takes the slot left over at once, not after the notifier has gone through the backlog ahead of it.
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

/** A receiver that reads each request and answers it 200 after `answerAfterMs`, or never. */
async function startSilentReceiver(answerAfterMs?: number) {
  let received = 0;
  let answered = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      if (answerAfterMs !== undefined) setTimeout(() => (answered++, res.writeHead(200).end('ok')), answerAfterMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    get received() {
      return received;
    },
    get answered() {
      return answered;
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

async function submitNotifying(url: string, n: number, app = t): Promise<string[]> {
  const inputs = Array.from({ length: n }, () => ({ type: 'demo.noop', payload: {}, notify: [{ webhook: url }] }));
  const r = await gql(app.url, SUBMIT_MANY, { inputs });
  expect(r.body.data.submitJobs.userErrors).toEqual([]);
  return r.body.data.submitJobs.jobs.map((j: { id: string }) => j.id);
}

const deliveryOf = async (id: string, app = t) => (await gql(app.url, NOTIFICATIONS, { id })).body.data.job.notifications[0];

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

describe('a slow but healthy receiver with a backlog', () => {
  it('does not hold back another receiver\'s delivery behind its backlog', async () => {
    const slow = await startSilentReceiver(1500);
    const app = await startTestApp({
      config: { WEBHOOK_SECRET: 'test-webhook-secret-0123456789', WEBHOOK_ALLOW_PRIVATE: '1', NOTIFIER_CONCURRENCY: '3' },
    });
    try {
      const backlog = await submitNotifying(slow.url, 40, app);
      await eventually(async () => (await deliveryOf(backlog.at(-1)!, app)) !== undefined, 30_000, 'the backlog made');
      const [id] = await submitNotifying(`${receiver.url}/behind-a-backlog`, 1, app);
      await eventually(async () => (await deliveryOf(id!, app))?.status === 'SENT', 60_000, 'the other receiver\'s delivery sent');
      // The slow receiver's share (2 of 3 slots) sends 2 deliveries every 1.5 s: its backlog takes 30 s.
      // Before, the other delivery waited behind most of it (18 s); now it is sent while most is still to go.
      expect(slow.answered).toBeLessThan(backlog.length / 2);

      // The backlog is sent too, at its share's pace, each delivery in one attempt (a turn waited is not one).
      await eventually(() => slow.answered >= backlog.length, 60_000, 'the backlog sent');
      for (const b of backlog) expect(await deliveryOf(b, app)).toMatchObject({ status: 'SENT', attempts: 1 });
    } finally {
      await app.dispose();
      await slow.close();
    }
  }, 120_000);
});
