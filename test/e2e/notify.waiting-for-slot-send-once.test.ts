/**
 * A delivery whose message waits for a free notifier slot longer than the consumer's AckWait is sent once.
 * Another API process with the default WEBHOOK_TIMEOUT_MS sets that AckWait to 30 s (the last process to
 * start sets it; a worker process did too, before it left the consumer alone); the API here gives receivers
 * 60 s. With every slot held by slow receivers for 34 s, the next delivery's message was pulled and held,
 * with no in-progress ack, until a slot freed: JetStream delivered it again meanwhile, and both copies were
 * sent, the second while the first was still being answered (two POSTs, two attempts).
 */
import { expect, it } from 'vitest';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { ensureStreams } from '../../src/messaging/streams.js';
import { createTestEnv, startTestApp } from '../support/app.js';
import { gql } from '../support/graphql.js';
import { useFixture } from '../support/fixture.js';
import { eventually, startSlowReceiver } from '../support/receivers.js';

const SUBMIT = 'mutation($input: SubmitJobInput!) { submitJob(input: $input) { job { id } userErrors { code } } }';
const NOTIFICATIONS = 'query($id: ID!) { job(id: $id) { notifications { status attempts lastError } } }';

const f = useFixture(async (later) => {
  const [slow, slower, fast] = await Promise.all([startSlowReceiver(34_000), startSlowReceiver(34_000), startSlowReceiver(3000)]);
  for (const r of [slow, slower, fast]) later(() => r.close());
  const env = await createTestEnv();
  later(() => env.dispose());
  const api = await startTestApp({
    env,
    config: { WEBHOOK_SECRET: 'test-webhook-secret-0123456789', WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_TIMEOUT_MS: '60000', NOTIFIER_CONCURRENCY: '3' },
  });
  later(() => api.dispose());
  // What another API process started after this one, with the default WEBHOOK_TIMEOUT_MS, does.
  await ensureStreams(api.app.deps.nats.jsm, api.app.deps.names, BUILTIN_JOB_TYPES, {
    ackWaitMs: api.config.ACK_WAIT_MS,
    duplicateWindowMs: api.config.DUPLICATE_WINDOW_MS,
    notifyAckWaitMs: 10_000 + 20_000,
  });
  return { slow, slower, fast, api };
});

async function submit(webhooks: string[]): Promise<string> {
  const r = await gql(f.api.url, SUBMIT, { input: { type: 'demo.noop', payload: {}, notify: webhooks.map((webhook) => ({ webhook })) } });
  expect(r.body.data.submitJob.userErrors).toEqual([]);
  return r.body.data.submitJob.job.id as string;
}

it('sends once a delivery whose message waited for a slot longer than the AckWait', async () => {
  const { names, nats } = f.api.app.deps;
  const consumer = await nats.jsm.consumers.info(names.notificationsStream, names.notifierConsumer);
  expect(consumer.config.ack_wait).toBe(30_000 * 1e6);

  // Every slot: two sends to one slow receiver (its share), one to another.
  await submit([f.slow.url, `${f.slow.url}/2`, f.slower.url]);
  await eventually(() => f.slow.posts.length + f.slower.posts.length === 3, 10_000, 'the slow sends began');
  const id = await submit([f.fast.url]);

  const delivery = await eventually(async () => {
    const q = await gql(f.api.url, NOTIFICATIONS, { id });
    const [n] = q.body.data.job.notifications;
    return n && n.status !== 'PENDING' ? n : undefined;
  }, 60_000, 'the delivery settled');
  await new Promise((r) => setTimeout(r, 4000)); // a second copy, had there been one, has been posted
  expect(delivery).toEqual({ status: 'SENT', attempts: 1, lastError: null });
  expect(f.fast.posts).toHaveLength(1);
}, 90_000);
