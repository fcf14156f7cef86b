/**
 * What a webhook receiver's refusal says is heeded: 410 Gone dead-letters the delivery at once (no retry),
 * and a 429 or 503 with `Retry-After` is not tried again before the time it asks for (at most
 * NOTIFY_BACKOFF_MAX_MS later).
 */
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app.js';
import { useFixture } from '../support/fixture.js';
import { gql } from '../support/graphql.js';
import { eventually, startWebhookReceiver } from '../support/receivers.js';

const SUBMIT = /* GraphQL */ `
  mutation Submit($input: SubmitJobInput!) { submitJob(input: $input) { job { id } userErrors { code message } } }
`;
const NOTIFICATIONS = /* GraphQL */ `
  query Job($id: ID!) { job(id: $id) { notifications { id status attempts lastError nextAttemptAt finishedAt } } }
`;

type Delivery = { id: string; status: string; attempts: number; lastError: string | null; nextAttemptAt: string | null };

/** The receiver, and an app whose backoff is short (100 ms doubling) with a longest delay of 5 s. */
const f = useFixture(async (later) => {
  const receiver = await startWebhookReceiver();
  later(() => receiver.close());
  const config = { WEBHOOK_SECRET: 'receiver-answers-secret-0123', WEBHOOK_ALLOW_PRIVATE: '1', NOTIFY_MAX_ATTEMPTS: '4' };
  const app = await startTestApp({ config: { ...config, NOTIFY_BACKOFF_MS: '100', NOTIFY_BACKOFF_MAX_MS: '5000' } });
  later(() => app.dispose());
  return { receiver, app };
});

async function notify(path: string): Promise<string> {
  const r = await gql(f.app.url, SUBMIT, { input: { type: 'demo.noop', payload: {}, notify: [{ webhook: `${f.receiver.url}${path}` }] } });
  expect(r.body.data.submitJob.userErrors).toEqual([]);
  return r.body.data.submitJob.job.id;
}

/** The job's one delivery, once `ready` holds for it. */
const delivery = (id: string, ready: (d: Delivery) => boolean, what: string) =>
  eventually(async () => {
    const d = (await gql(f.app.url, NOTIFICATIONS, { id })).body.data.job.notifications[0] as Delivery | undefined;
    return d && ready(d) ? d : undefined;
  }, 30_000, what);

describe('a receiver refusing a delivery', () => {
  it('410 Gone: dead-lettered after that one attempt', async () => {
    f.receiver.script('/gone', [410]);
    const id = await notify('/gone');
    const d = await delivery(id, (x) => x.status !== 'PENDING', 'delivery settled');
    expect(d).toMatchObject({ status: 'FAILED', attempts: 1, nextAttemptAt: null });
    expect(d.lastError).toMatch(/^HTTP 410/);
    await new Promise((r) => setTimeout(r, 1000)); // no retry comes
    expect(f.receiver.requests.filter((r) => r.path === '/gone')).toHaveLength(1);
  });

  it('429 with Retry-After: the next attempt waits as long as asked', async () => {
    f.receiver.script('/limited', [429, 200], { 'retry-after': '2' });
    const id = await notify('/limited');
    const waiting = await delivery(id, (x) => x.nextAttemptAt !== null, 'delivery waiting');
    expect(waiting.lastError).toMatch(/^HTTP 429/);
    const [first] = f.receiver.requests.filter((r) => r.path === '/limited');
    expect(new Date(waiting.nextAttemptAt!).getTime() - first!.at).toBeGreaterThanOrEqual(1900);
    const sent = await delivery(id, (x) => x.status === 'SENT', 'delivery sent');
    expect(sent.attempts).toBe(2);
    const [, second] = f.receiver.requests.filter((r) => r.path === '/limited');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1900);
  });

  it('503 with a Retry-After date an hour away: tried again after NOTIFY_BACKOFF_MAX_MS, not an hour', async () => {
    f.receiver.script('/maintenance', [503, 200], { 'retry-after': new Date(Date.now() + 3_600_000).toUTCString() });
    const id = await notify('/maintenance');
    const waiting = await delivery(id, (x) => x.nextAttemptAt !== null, 'delivery waiting');
    const [first] = f.receiver.requests.filter((r) => r.path === '/maintenance');
    const wait = new Date(waiting.nextAttemptAt!).getTime() - first!.at;
    expect(wait).toBeGreaterThanOrEqual(4900);
    expect(wait).toBeLessThan(6000);
  });
});
