/**
 * A rolling deploy that adds a notification channel (SMTP_URL here; WEBHOOK_SECRET alike): the API processes
 * that have it accept `notify: [{ email }]`, while the notifiers of those not restarted yet, which cannot
 * send email, pull the deliveries too. Each such pull used an attempt that failed for want of the setting
 * ("email is not configured"), and after NOTIFY_MAX_ATTEMPTS the delivery was dead-lettered (FAILED) before
 * a notifier that could send it got it: the notification was lost. Such a notifier now hands the message
 * back unsent, with no attempt used, for one that can send it.
 */
import { expect, it } from 'vitest';
import { createTestEnv, startTestApp } from '../support/app.js';
import { gql, waitForJob } from '../support/graphql.js';
import { useFixture } from '../support/fixture.js';
import { eventually, startSmtpReceiver } from '../support/receivers.js';

const SUBMIT = 'mutation($input: SubmitJobInput!) { submitJob(input: $input) { job { id } userErrors { code message } } }';
const NOTIFICATIONS = 'query($id: ID!) { job(id: $id) { notifications { status attempts lastError } } }';
const FAST_RETRIES = { NOTIFY_MAX_ATTEMPTS: '2', NOTIFY_BACKOFF_MS: '50', NOTIFY_BACKOFF_MAX_MS: '100' };

const f = useFixture(async (later) => {
  const smtp = await startSmtpReceiver();
  later(() => smtp.close());
  const env = await createTestEnv();
  later(() => env.dispose());
  // Restarted already: has SMTP_URL (its notifier not started yet), and takes the submit.
  const fresh = await startTestApp({ env, handlers: null, config: { ...FAST_RETRIES, SMTP_URL: smtp.url, NOTIFIER_CONCURRENCY: '0' } });
  later(() => fresh.dispose());
  // Not restarted yet: no SMTP_URL; its notifier runs, and so do its workers.
  const old = await startTestApp({ env, config: FAST_RETRIES });
  let oldStopped = false;
  later(() => (oldStopped ? undefined : old.dispose()));
  return { smtp, env, fresh, old, stopOld: async () => ((oldStopped = true), await old.dispose()) };
});

it('leaves an email delivery to a notifier that can send it, with no attempt used by one that cannot', async () => {
  const r = await gql(f.fresh.url, SUBMIT, { input: { type: 'demo.noop', payload: {}, notify: [{ email: 'ops@example.com' }] } });
  expect(r.body.data.submitJob.userErrors).toEqual([]);
  const id = r.body.data.submitJob.job.id as string;
  await waitForJob(f.fresh.url, id, (j) => j.state === 'SUCCEEDED');

  // The old process's notifier has had the delivery's message(s) twice: as many as its attempts allow.
  const { nats, names } = f.old.app.deps;
  await eventually(async () => (await nats.jsm.consumers.info(names.notificationsStream, names.notifierConsumer)).delivered.consumer_seq >= 2, 20_000, 'the old notifier had the delivery twice');
  await f.stopOld();

  // The rollout goes on: a process with SMTP_URL runs a notifier.
  const mailer = await startTestApp({ env: f.env, handlers: null, config: { ...FAST_RETRIES, SMTP_URL: f.smtp.url, NOTIFIER_CONCURRENCY: '1' } });
  try {
    const settled = await eventually(async () => {
      const [n] = (await gql(f.fresh.url, NOTIFICATIONS, { id })).body.data.job.notifications;
      return n && n.status !== 'PENDING' ? n : undefined;
    }, 60_000, 'the delivery settled');
    expect(settled).toEqual({ status: 'SENT', attempts: 1, lastError: null });
    expect(f.smtp.messages.map((m) => m.to)).toEqual([['ops@example.com']]);
  } finally {
    await mailer.dispose();
  }
}, 90_000);
