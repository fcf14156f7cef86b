/**
 * Webhook notifications, end to end: submit with `notify` → terminal transition → outbox → notifications
 * stream → notifier → a real local HTTP receiver. Signature, body, retries with one delivery id, dead letters.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, waitForJob } from '../support/graphql.js';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';

const SECRET = 'test-webhook-secret-0123456789';

const SUBMIT = /* GraphQL */ `
  mutation Submit($input: SubmitJobInput!) {
    submitJob(input: $input) { job { id state } userErrors { code field message } }
  }
`;
const NOTIFICATIONS = /* GraphQL */ `
  query Job($id: ID!) {
    job(id: $id) { id state result error attempts notifications { id channel target jobState status attempts lastError createdAt finishedAt } }
  }
`;

let t: TestApp;
let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  t = await startTestApp({
    config: {
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_ALLOW_PRIVATE: '1',
      NOTIFY_MAX_ATTEMPTS: '3',
      NOTIFY_BACKOFF_MS: '100',
      NOTIFY_BACKOFF_MAX_MS: '400',
    },
  });
});
afterAll(async () => {
  await t?.dispose();
  await receiver?.close();
});

async function submit(input: Record<string, unknown>) {
  const r = await gql(t.url, SUBMIT, { input });
  expect(r.body.errors).toBeUndefined();
  return r.body.data.submitJob;
}

/** Waits until every delivery of the job is SENT or FAILED (and there are `count` of them). */
async function settledNotifications(id: string, count = 1) {
  return eventually(async () => {
    const job = (await gql(t.url, NOTIFICATIONS, { id })).body.data.job;
    const ns = job.notifications as any[];
    return ns.length === count && ns.every((n) => n.status !== 'PENDING') ? job : undefined;
  }, 30_000, `notifications of ${id} settled`);
}

describe('webhook notifications', () => {
  it('POSTs a signed JSON body with the job outcome and a delivery id', async () => {
    const { job, userErrors } = await submit({
      type: 'demo.sleep',
      payload: { ms: 20, steps: 1 },
      notify: [{ webhook: `${receiver.url}/ok` }],
    });
    expect(userErrors).toEqual([]);
    const done = await settledNotifications(job.id);
    expect(done.state).toBe('SUCCEEDED');
    const [n] = done.notifications;
    expect(n).toMatchObject({ channel: 'WEBHOOK', target: `${receiver.url}/ok`, jobState: 'SUCCEEDED', status: 'SENT', attempts: 1, lastError: null });
    expect(n.finishedAt).not.toBeNull();

    const reqs = receiver.requests.filter((r) => r.path === '/ok');
    expect(reqs).toHaveLength(1);
    const req = reqs[0]!;
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['longrun-delivery-id']).toBe(n.id);
    expect(req.headers['longrun-event']).toBe('job.SUCCEEDED');
    const expected = `sha256=${createHmac('sha256', SECRET).update(req.raw).digest('hex')}`;
    expect(req.headers['longrun-signature']).toBe(expected);
    const body = JSON.parse(req.raw);
    expect(body).toMatchObject({
      deliveryId: n.id,
      event: 'job.SUCCEEDED',
      job: { id: job.id, type: 'demo.sleep', state: 'SUCCEEDED', result: { slept: 20, steps: 1 }, error: null, attempts: 1 },
    });
    expect(new Date(body.job.finishedAt).getTime()).toBeGreaterThanOrEqual(new Date(body.job.createdAt).getTime());
  });

  it('retries a receiver that fails twice: one accepted delivery, the same delivery id every time', async () => {
    receiver.script('/flaky', [500, 502, 200]);
    const { job } = await submit({ type: 'demo.sleep', payload: { ms: 10, steps: 1 }, notify: [{ webhook: `${receiver.url}/flaky` }] });
    const done = await settledNotifications(job.id);
    const [n] = done.notifications;
    expect(n).toMatchObject({ status: 'SENT', attempts: 3 });
    expect(n.lastError).toMatch(/HTTP 502/);
    const reqs = receiver.requests.filter((r) => r.path === '/flaky');
    expect(reqs.map((r) => r.status)).toEqual([500, 502, 200]);
    expect(new Set(reqs.map((r) => r.headers['longrun-delivery-id']))).toEqual(new Set([n.id]));
    expect(new Set(reqs.map((r) => r.raw)).size).toBe(1); // the same bytes (and signature) on every retry
    expect(reqs.filter((r) => r.status < 300)).toHaveLength(1);
  });

  it('dead-letters a delivery whose receiver never succeeds, visible in Job.notifications', async () => {
    receiver.script('/down', [503]);
    const { job } = await submit({
      type: 'demo.flaky',
      payload: { failures: 1, permanent: true },
      maxAttempts: 1,
      notify: [{ webhook: `${receiver.url}/down` }],
    });
    const done = await settledNotifications(job.id);
    expect(done.state).toBe('FAILED');
    const [n] = done.notifications;
    expect(n).toMatchObject({ jobState: 'FAILED', status: 'FAILED', attempts: 3 });
    expect(n.lastError).toMatch(/HTTP 503/);
    const reqs = receiver.requests.filter((r) => r.path === '/down');
    expect(reqs).toHaveLength(3);
    expect(JSON.parse(reqs[0]!.raw).job).toMatchObject({ id: job.id, state: 'FAILED', result: null });
    expect(JSON.parse(reqs[0]!.raw).job.error).toBeTruthy();
  });

  it('sends only for the states in `on`', async () => {
    const { job } = await submit({
      type: 'demo.sleep',
      payload: { ms: 10, steps: 1 },
      notify: [{ webhook: `${receiver.url}/failed-only`, on: ['FAILED'] }, { webhook: `${receiver.url}/succeeded`, on: ['SUCCEEDED', 'CANCELLED'] }],
    });
    const done = await settledNotifications(job.id);
    expect(done.notifications.map((n: any) => n.target)).toEqual([`${receiver.url}/succeeded`]);
    await waitForJob(t.url, job.id, (j) => j.state === 'SUCCEEDED');
    expect(receiver.requests.filter((r) => r.path === '/failed-only')).toHaveLength(0);
  });

  it('sends an event once to a webhook that several entries name (their `on` lists merged), with one delivery id', async () => {
    // Each entry was a subscription of its own: the same URL twice (a default list merged with the job's own)
    // got each event twice, under two delivery ids, so a receiver deduping on deliveryId acted on it twice.
    const url = `${receiver.url}/named-twice`;
    const { job } = await submit({
      type: 'demo.sleep',
      payload: { ms: 10, steps: 1 },
      notify: [{ webhook: url, on: ['SUCCEEDED'] }, { webhook: url }, { webhook: url.replace('http://', 'HTTP://'), on: ['CANCELLED'] }, { webhook: `${url}#again` }],
    });
    const done = await eventually(async () => {
      const j = (await gql(t.url, NOTIFICATIONS, { id: job.id })).body.data.job;
      return j.state === 'SUCCEEDED' && j.notifications.length > 0 && j.notifications.every((n: any) => n.status !== 'PENDING') ? j : undefined;
    }, 30_000, 'notifications settled');
    expect(done.notifications.map((n: any) => [n.target, n.jobState, n.status])).toEqual([[url, 'SUCCEEDED', 'SENT']]);
    expect(receiver.requests.filter((r) => r.path === '/named-twice')).toHaveLength(1);
    const subscriptions = await t.env.sql<{ on: string }[]>`select on_states::text as on from job_notifications where job_id = ${job.id}`;
    expect(subscriptions.map((r) => r.on)).toEqual(['{SUCCEEDED,FAILED,CANCELLED}']);
  });

  it('notifies a cancellation, and again (a new delivery id) when a replayed job fails again', async () => {
    const { job: long } = await submit({
      type: 'demo.sleep',
      payload: { ms: 20_000, steps: 40 },
      notify: [{ webhook: `${receiver.url}/cancelled`, on: ['CANCELLED'] }],
    });
    await waitForJob(t.url, long.id, (j) => j.state === 'RUNNING');
    await gql(t.url, `mutation($id: ID!) { cancelJob(id: $id) { userErrors { code } } }`, { id: long.id });
    const cancelled = await settledNotifications(long.id);
    expect(cancelled.notifications[0]).toMatchObject({ jobState: 'CANCELLED', status: 'SENT' });
    expect(JSON.parse(receiver.requests.find((r) => r.path === '/cancelled')!.raw).job.state).toBe('CANCELLED');

    const { job } = await submit({
      type: 'demo.flaky',
      payload: { failures: 1, permanent: true },
      maxAttempts: 1,
      notify: [{ webhook: `${receiver.url}/replayed` }],
    });
    await settledNotifications(job.id, 1);
    await eventually(async () => (await gql(t.url, `{ deadLetters(first: 100) { edges { node { id } } } }`)).body.data
      .deadLetters.edges.some((e: any) => e.node.id === job.id), 20_000, 'dead-lettered');
    const retried = await gql(t.url, `mutation($id: ID!) { retryJob(id: $id) { userErrors { code } } }`, { id: job.id });
    expect(retried.body.data.retryJob.userErrors).toEqual([]);
    const twice = await settledNotifications(job.id, 2);
    expect(twice.notifications.map((n: any) => [n.jobState, n.status])).toEqual([['FAILED', 'SENT'], ['FAILED', 'SENT']]);
    const ids = receiver.requests.filter((r) => r.path === '/replayed').map((r) => r.headers['longrun-delivery-id']);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
  });

  it('refuses bad notify entries with codes, writing nothing', async () => {
    const count = async (q: Promise<{ count: number }[]>) => (await q)[0]!.count;
    const before = await count(t.env.sql`select count(*)::int as count from jobs`);
    const cases: [Record<string, unknown>, string][] = [
      [{ webhook: 'ftp://example.com/x' }, 'INVALID_WEBHOOK_URL'],
      [{ webhook: 'not a url' }, 'INVALID_WEBHOOK_URL'],
      [{ webhook: 'http://user:pw@example.com/' }, 'INVALID_WEBHOOK_URL'],
      [{ webhook: 'http://169.254.169.254/latest/meta-data' }, 'WEBHOOK_NOT_ALLOWED'],
      [{ webhook: 'http://[fe80::1]/' }, 'WEBHOOK_NOT_ALLOWED'],
      [{ webhook: 'http://[64:ff9b::a9fe:a9fe]/latest/meta-data' }, 'WEBHOOK_NOT_ALLOWED'], // 169.254.169.254 over NAT64
      [{ webhook: 'http://metadata.google.internal/' }, 'WEBHOOK_NOT_ALLOWED'],
      [{ webhook: `${receiver.url}/x`, email: 'a@example.com' }, 'INVALID_NOTIFY'],
      [{}, 'INVALID_NOTIFY'],
      [{ webhook: `${receiver.url}/x`, on: ['RUNNING'] }, 'INVALID_NOTIFY'],
      [{ webhook: `${receiver.url}/x`, on: [] }, 'INVALID_NOTIFY'],
      [{ email: 'ops@example.com' }, 'NOTIFY_NOT_CONFIGURED'], // no SMTP_URL in this app
    ];
    for (const [entry, code] of cases) {
      const r = await submit({ type: 'demo.sleep', payload: { ms: 1, steps: 1 }, notify: [entry] });
      expect(r.job, JSON.stringify(entry)).toBeNull();
      expect(r.userErrors.map((e: any) => e.code), JSON.stringify(entry)).toContain(code);
      expect(r.userErrors[0].field.slice(0, 3)).toEqual(['input', 'notify', '0']);
    }
    expect(await count(t.env.sql`select count(*)::int as count from jobs`)).toBe(before);
    expect(await count(t.env.sql`select count(*)::int as count from job_notifications where target like '%/x'`)).toBe(0);
  });
});
