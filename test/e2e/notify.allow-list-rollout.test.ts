/**
 * A rolling deploy that widens WEBHOOK_ALLOWED_HOSTS (or turns on WEBHOOK_ALLOW_PRIVATE): the API processes
 * restarted already accept webhooks to the newly listed host, while the notifiers of those not restarted yet
 * pull the deliveries too, and their send-time check refused each at once, for good (FAILED, "not in the
 * server's allow-list"): the notification was lost. Such a notifier now hands the message back unsent, with
 * no attempt used, for one whose policy lets it through (a host taken off every process's list still fails,
 * once the hand-backs are used: test/integration/webhook.send-policy.test.ts).
 */
import { expect, it } from 'vitest';
import { createTestEnv, startTestApp } from '../support/app.js';
import { gql, waitForJob } from '../support/graphql.js';
import { useFixture } from '../support/fixture.js';
import { eventually, startWebhookReceiver } from '../support/receivers.js';

const SUBMIT = 'mutation($input: SubmitJobInput!) { submitJob(input: $input) { job { id } userErrors { code message } } }';
const NOTIFICATIONS = 'query($id: ID!) { job(id: $id) { notifications { status attempts lastError } } }';
const WEBHOOKS = { WEBHOOK_SECRET: 'rollout-secret-0123456789', NOTIFY_MAX_ATTEMPTS: '2', NOTIFY_BACKOFF_MS: '50', NOTIFY_BACKOFF_MAX_MS: '100' };
const WIDENED = { ...WEBHOOKS, WEBHOOK_ALLOWED_HOSTS: 'hooks.example.com,127.0.0.1' };

const f = useFixture(async (later) => {
  const receiver = await startWebhookReceiver();
  later(() => receiver.close());
  const env = await createTestEnv();
  later(() => env.dispose());
  // Restarted already, with the wider list (its notifier not started yet): takes the submit.
  const fresh = await startTestApp({ env, handlers: null, config: { ...WIDENED, NOTIFIER_CONCURRENCY: '0' } });
  later(() => fresh.dispose());
  // Not restarted yet: the old list; its notifier runs, and so do its workers.
  const old = await startTestApp({ env, config: { ...WEBHOOKS, WEBHOOK_ALLOWED_HOSTS: 'hooks.example.com' } });
  let oldStopped = false;
  later(() => (oldStopped ? undefined : old.dispose()));
  return { receiver, env, fresh, old, stopOld: async () => ((oldStopped = true), await old.dispose()) };
});

it('leaves a webhook delivery to a newly listed host to a notifier whose list has it, with no attempt used by one whose list has not', async () => {
  const r = await gql(f.fresh.url, SUBMIT, { input: { type: 'demo.noop', payload: {}, notify: [{ webhook: `${f.receiver.url}/new` }] } });
  expect(r.body.data.submitJob.userErrors).toEqual([]);
  const id = r.body.data.submitJob.job.id as string;
  await waitForJob(f.fresh.url, id, (j) => j.state === 'SUCCEEDED');

  // The old process's notifier has had the delivery's message: refused it for good, or handed it back.
  const { nats, names } = f.old.app.deps;
  const refused = async () => (await gql(f.fresh.url, NOTIFICATIONS, { id })).body.data.job.notifications[0]?.status === 'FAILED';
  const handedBack = async () => (await nats.jsm.consumers.info(names.notificationsStream, names.notifierConsumer)).delivered.consumer_seq >= 2;
  await eventually(async () => (await refused()) || (await handedBack()), 20_000, 'the old notifier had the delivery');
  await f.stopOld();

  const widened = await startTestApp({ env: f.env, handlers: null, config: { ...WIDENED, NOTIFIER_CONCURRENCY: '1' } });
  try {
    const settled = await eventually(async () => {
      const [n] = (await gql(f.fresh.url, NOTIFICATIONS, { id })).body.data.job.notifications;
      return n && n.status !== 'PENDING' ? n : undefined;
    }, 60_000, 'the delivery settled');
    expect(settled).toEqual({ status: 'SENT', attempts: 1, lastError: null });
    expect(f.receiver.requests.filter((q) => q.path === '/new')).toHaveLength(1);
  } finally {
    await widened.dispose();
  }
}, 90_000);
