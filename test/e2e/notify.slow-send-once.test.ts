/**
 * A webhook send that takes longer than the notifier consumer's AckWait is sent once. The API sets that
 * AckWait from its WEBHOOK_TIMEOUT_MS (+ 20 s), but every process that starts sets it from its own
 * configuration: a worker process (`npm run worker`), which has no reason to know the webhook settings,
 * puts it back to 30 s. A receiver the API gives 60 s that answers after 33 s then got the same delivery
 * twice, the second POST while the first was still being answered, and the delivery counted two attempts.
 */
import { expect, it } from 'vitest';
import { gql } from '../support/graphql.js';
import { createTestEnv, startTestApp } from '../support/app.js';
import { useFixture } from '../support/fixture.js';
import { spawnWorker } from '../support/processes.js';
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
  // A worker process started after the API, with the environment workers get: no webhook settings.
  const worker = await spawnWorker(env.env);
  later(() => worker.kill('SIGTERM'));
  return { receiver, api };
});

it('sends a delivery once to a receiver slower than the AckWait a worker process set', async () => {
  const { names, nats } = f.api.app.deps;
  const consumer = await nats.jsm.consumers.info(names.notificationsStream, names.notifierConsumer);
  expect(consumer.config.ack_wait).toBe(30_000 * 1e6); // the worker's: shorter than the send

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
