/**
 * A notification delivery's outbox entry is written by a terminal transition and published by nobody at
 * once, so the relay takes it at its next pass, without the minimum age it leaves a submit's own entries
 * (which their submitting process publishes itself).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql, SUBMIT } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';

let t: TestApp;
let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  t = await startTestApp({
    handlers: null,
    // The relay loop waits a minute between passes: only the pass this test runs publishes.
    config: { WEBHOOK_SECRET: 'test-webhook-secret-0123456789', WEBHOOK_ALLOW_PRIVATE: '1', RELAY_INTERVAL_MS: '60000' },
  });
});
afterAll(async () => {
  await t?.dispose();
  await receiver?.close();
});

it('publishes a delivery written by a terminal transition at the next relay pass', async () => {
  const { sql, names, relay } = t.app.deps;
  const submitted = await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {}, notify: [{ webhook: `${receiver.url}/ok`, on: ['CANCELLED'] }] } });
  const id = submitted.body.data.submitJob.job.id as string;
  const cancel = await gql(t.url, `mutation C($id: ID!) { cancelJob(id: $id) { job { state } userErrors { code } } }`, { id });
  expect(cancel.body.data.cancelJob.job.state).toBe('CANCELLED');

  const entry = () => sql<{ published: boolean }[]>`
    select published_at is not null as published from outbox where job_id = ${id} and subject = ${names.notificationSubject}`;
  expect(await entry()).toEqual([{ published: false }]);
  await relay.runOnce(); // at once: the entry is milliseconds old
  expect(await entry()).toEqual([{ published: true }]);
});
