/**
 * A rolling deploy that adds a notification channel (SMTP_URL; WEBHOOK_SECRET alike) or widens the webhook
 * policy (WEBHOOK_ALLOWED_HOSTS; WEBHOOK_ALLOW_PRIVATE alike): the API processes restarted already accept the
 * new notifications, while the notifiers of those not restarted yet, which cannot send them, pull the
 * deliveries too. Each such pull used an attempt that failed for want of the setting ("email is not
 * configured"; a refused URL failed for good at once, "not in the server's allow-list"), and the delivery was
 * dead-lettered (FAILED) before a notifier that could send it got it: the notification was lost. Such a
 * notifier now hands the message back unsent, with no attempt used, for one that can send it.
 */
import { expect, it } from 'vitest';
import { createTestEnv, startTestApp } from '../support/app.js';
import { gql, waitForJob } from '../support/graphql.js';
import { eventually, startSmtpReceiver, startWebhookReceiver } from '../support/receivers.js';

const SUBMIT = 'mutation($input: SubmitJobInput!) { submitJob(input: $input) { job { id } userErrors { code message } } }';
const NOTIFICATIONS = 'query($id: ID!) { job(id: $id) { notifications { status attempts lastError } } }';
const FAST_RETRIES = { NOTIFY_MAX_ATTEMPTS: '2', NOTIFY_BACKOFF_MS: '50', NOTIFY_BACKOFF_MAX_MS: '100' };

/**
 * Submits a job notifying `notify` to a process with the `after` settings (its notifier off), while one with
 * the `before` settings runs the job and its notifier; once that notifier has had the delivery, stops it and
 * starts a notifier with the `after` settings. Answers how the delivery settled.
 */
async function rollout(before: Record<string, string>, after: Record<string, string>, notify: Record<string, string>) {
  const env = await createTestEnv();
  const fresh = await startTestApp({ env, handlers: null, config: { ...FAST_RETRIES, ...after, NOTIFIER_CONCURRENCY: '0' } });
  const old = await startTestApp({ env, config: { ...FAST_RETRIES, ...before } });
  try {
    const r = await gql(fresh.url, SUBMIT, { input: { type: 'demo.noop', payload: {}, notify: [notify] } });
    expect(r.body.data.submitJob.userErrors).toEqual([]);
    const id = r.body.data.submitJob.job.id as string;
    await waitForJob(fresh.url, id, (j) => j.state === 'SUCCEEDED');
    const delivery = async () => (await gql(fresh.url, NOTIFICATIONS, { id })).body.data.job.notifications[0];
    // The old process's notifier has had the delivery's message: failed it for good, or handed it back.
    const { nats, names } = old.app.deps;
    const handedBack = async () => (await nats.jsm.consumers.info(names.notificationsStream, names.notifierConsumer)).delivered.consumer_seq >= 2;
    await eventually(async () => (await delivery())?.status === 'FAILED' || (await handedBack()), 20_000, 'the old notifier had the delivery');
    await old.dispose();
    const mailer = await startTestApp({ env, handlers: null, config: { ...FAST_RETRIES, ...after, NOTIFIER_CONCURRENCY: '1' } });
    try {
      return await eventually(async () => {
        const n = await delivery();
        return n && n.status !== 'PENDING' ? n : undefined;
      }, 60_000, 'the delivery settled');
    } finally {
      await mailer.dispose();
    }
  } finally {
    await old.dispose().catch(() => {}); // stopped already, unless the test failed before
    await fresh.dispose();
    await env.dispose();
  }
}

it('leaves an email delivery to a notifier that can send it, with no attempt used by one without SMTP_URL', async () => {
  const smtp = await startSmtpReceiver();
  try {
    const settled = await rollout({}, { SMTP_URL: smtp.url }, { email: 'ops@example.com' });
    expect(settled).toEqual({ status: 'SENT', attempts: 1, lastError: null });
    expect(smtp.messages.map((m) => m.to)).toEqual([['ops@example.com']]);
  } finally {
    await smtp.close();
  }
}, 90_000);

it('leaves a webhook delivery to a newly listed host to a notifier whose allow-list has it, with no attempt used by one whose list has not', async () => {
  const receiver = await startWebhookReceiver();
  try {
    const secret = { WEBHOOK_SECRET: 'rollout-secret-0123456789' };
    const settled = await rollout(
      { ...secret, WEBHOOK_ALLOWED_HOSTS: 'hooks.example.com' },
      { ...secret, WEBHOOK_ALLOWED_HOSTS: 'hooks.example.com,127.0.0.1' },
      { webhook: `${receiver.url}/new` },
    );
    expect(settled).toEqual({ status: 'SENT', attempts: 1, lastError: null });
    expect(receiver.requests.filter((q) => q.path === '/new')).toHaveLength(1);
  } finally {
    await receiver.close();
  }
}, 90_000);
