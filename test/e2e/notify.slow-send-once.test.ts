/**
 * A webhook send that takes longer than the notifier consumer's AckWait is sent once. Each API process sets
 * that AckWait from its own WEBHOOK_TIMEOUT_MS (+ 20 s) as it starts, so another API process with the
 * default puts it back to 30 s (a worker process did too, before it left the consumer alone). A receiver
 * this API gives 60 s that answers after 33 s then got the same delivery twice, the second POST while the
 * first was still being answered, and the delivery counted two attempts.
 */
import { expect, it } from 'vitest';
import { gql } from '../support/graphql.js';
import { createTestEnv, startTestApp } from '../support/app.js';
import { useFixture } from '../support/fixture.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { ensureStreams } from '../../src/messaging/streams.js';
import { eventually, startSlowReceiver } from '../support/receivers.js';

const ANSWER_AFTER_MS = 33_000;

const f = useFixture(async (later) => {
  const receiver = await startSlowReceiver(ANSWER_AFTER_MS);
  later(() => receiver.close());
  const env = await createTestEnv();
  later(() => env.dispose());
  const api = await startTestApp({
    env,
    config: { WEBHOOK_SECRET: 'test-webhook-secret-0123456789', WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_TIMEOUT_MS: '60000' },
  });
  later(() => api.dispose());
  // What another API process started after this one, with the default WEBHOOK_TIMEOUT_MS (10 s), does.
  await ensureStreams(api.app.deps.nats.jsm, api.app.deps.names, BUILTIN_JOB_TYPES, {
    ackWaitMs: api.config.ACK_WAIT_MS,
    duplicateWindowMs: api.config.DUPLICATE_WINDOW_MS,
    notifyAckWaitMs: 10_000 + 20_000,
  });
  return { receiver, api };
});

it('sends a delivery once to a receiver slower than the AckWait another process set', async () => {
  const { names, nats } = f.api.app.deps;
  const consumer = await nats.jsm.consumers.info(names.notificationsStream, names.notifierConsumer);
  expect(consumer.config.ack_wait).toBe(30_000 * 1e6); // the other process's: shorter than the send

  const r = await gql(f.api.url, 'mutation($input: SubmitJobInput!) { submitJob(input: $input) { job { id } userErrors { code } } }', {
    input: { type: 'demo.noop', payload: {}, notify: [{ webhook: f.receiver.url }] },
  });
  expect(r.body.data.submitJob.userErrors).toEqual([]);
  const id = r.body.data.submitJob.job.id as string;
  const delivery = await eventually(async () => {
    const q = await gql(f.api.url, 'query($id: ID!) { job(id: $id) { notifications { status attempts lastError } } }', { id });
    const [n] = q.body.data.job.notifications;
    return n && n.status !== 'PENDING' ? n : undefined;
  }, 60_000, 'the delivery settled');
  expect(delivery).toEqual({ status: 'SENT', attempts: 1, lastError: null });
  expect(f.receiver.posts).toHaveLength(1);
}, 90_000);
