/**
 * A healthy but slow receiver with a backlog far larger than the notifier's slots: its deliveries that find
 * its share in use are sent round at its pace, each about once (a PostgreSQL write, an outbox row and a
 * message each time), not every few seconds each while they wait. Every one is still sent, in one attempt.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';

const BACKLOG = 100;
const ANSWER_AFTER_MS = 500;

const SUBMIT_MANY = /* GraphQL */ `
  mutation Submit($inputs: [SubmitJobInput!]!) {
    submitJobs(inputs: $inputs) { jobs { id } userErrors { code field message } }
  }
`;

let t: TestApp;
let server: http.Server;
let answered = 0;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => (answered++, res.writeHead(200).end('ok')), ANSWER_AFTER_MS));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  // Three slots, two for this receiver: it takes four deliveries a second, so the backlog takes 25 s.
  t = await startTestApp({
    config: { WEBHOOK_SECRET: 'test-webhook-secret-0123456789', WEBHOOK_ALLOW_PRIVATE: '1', NOTIFIER_CONCURRENCY: '3' },
  });
});
afterAll(async () => {
  await t?.dispose();
  server?.closeAllConnections();
  await new Promise<void>((r) => server?.close(() => r()));
});

it('sends a slow receiver\'s backlog at its pace, each delivery sent round about once while it waits', async () => {
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const inputs = Array.from({ length: BACKLOG }, () => ({ type: 'demo.noop', payload: {}, notify: [{ webhook: url }] }));
  const r = await gql(t.url, SUBMIT_MANY, { inputs });
  expect(r.body.data.submitJobs.userErrors).toEqual([]);

  await eventually(() => answered >= BACKLOG, 90_000, 'the backlog sent');
  // The receiver counts a delivery as it answers; the notifier marks it SENT a moment later.
  const rows = await eventually(async () => {
    const all = await t.env.sql<{ status: string; attempts: number; requeues: number }[]>`
      select status, attempts, requeues from notification_deliveries`;
    return all.every((d) => d.status !== 'PENDING') && all;
  }, 10_000, 'every delivery finished');
  expect(rows).toHaveLength(BACKLOG);
  expect(rows.filter((d) => d.status !== 'SENT' || d.attempts !== 1)).toEqual([]);
  // Sent round every few seconds each, they were 370 in all here, one of them 7 times; in its line, 176 and 2
  // (the first burst comes round once before any send has gone through and the pace is known).
  expect(rows.reduce((n, d) => n + d.requeues, 0)).toBeLessThanOrEqual(2.5 * BACKLOG);
  expect(Math.max(...rows.map((d) => d.requeues))).toBeLessThanOrEqual(4);
}, 120_000);
