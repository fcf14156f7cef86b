/**
 * `Longrun-Signature-V2`: each attempt is signed with the time it is sent, so a receiver that verifies it with
 * the SDK's `verifyWebhook` refuses a captured request replayed past the 5-minute tolerance (or with its `t`
 * changed), while every genuine attempt, a retry too, passes; the README's copyable verifier gives the same
 * verdict on every request. The receiver's clock is a setting of the test: moving it forward stands for the
 * time a replay waited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../sdk/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, SUBMIT } from '../support/graphql.js';
import { readmeVerifier, type VerifyLongrunWebhook } from '../support/readme-verifier.js';
import { eventually, startWebhookReceiver, type ReceivedRequest, type WebhookReceiver } from '../support/receivers.js';

const SECRET = 'timestamp-webhook-secret-0123456789';
const FIVE_MINUTES_MS = 5 * 60_000;

let t: TestApp;
let receiver: WebhookReceiver;
let readme: VerifyLongrunWebhook;
/** How far the receiver's clock is ahead of the real one. */
let receiverClockAheadMs = 0;
/** Per request the receiver got: the SDK's verdict and the README verifier's. */
const verdicts: { sdk: boolean; readme: boolean }[] = [];
beforeAll(async () => {
  readme = await readmeVerifier();
  receiver = await startWebhookReceiver({
    check: (headers, raw) => {
      const now = Date.now() + receiverClockAheadMs;
      const header = headers['longrun-signature-v2'];
      const verdict = { sdk: verifyWebhook({ secret: SECRET, header, rawBody: raw, now }), readme: readme(raw, header, SECRET, now) };
      verdicts.push(verdict);
      return verdict.sdk ? undefined : 401;
    },
  });
  t = await startTestApp({
    config: { WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOW_PRIVATE: '1', NOTIFY_BACKOFF_MS: '1500', NOTIFY_BACKOFF_MAX_MS: '1500' },
  });
});
afterAll(async () => {
  await t?.dispose();
  await receiver?.close();
});

/** Submits a short job notifying `path` and waits for its delivery to be SENT or FAILED. */
async function notified(path: string) {
  const r = await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1, steps: 1 }, notify: [{ webhook: `${receiver.url}${path}` }] } });
  const id = r.body.data.submitJob.job.id;
  return eventually(async () => {
    const job = (await gql(t.url, `query($id: ID!) { job(id: $id) { notifications { status attempts } } }`, { id })).body.data.job;
    return job.notifications[0]?.status === 'PENDING' ? undefined : job.notifications[0];
  }, 30_000, `notification of ${id}`);
}

/** `t` of a request's Longrun-Signature-V2. */
const timestampOf = (r: ReceivedRequest) => Number(/^t=(\d+),/.exec(String(r.headers['longrun-signature-v2']))?.[1]);

/** Sends a captured request again, as an attacker who recorded it would (its headers, possibly altered). */
async function replay(r: ReceivedRequest, headers: Record<string, string> = {}) {
  const pick = (name: string) => String(r.headers[name]);
  const res = await fetch(`${receiver.url}${r.path}`, {
    method: 'POST',
    headers: {
      'content-type': pick('content-type'),
      'longrun-delivery-id': pick('longrun-delivery-id'),
      'longrun-event': pick('longrun-event'),
      'longrun-signature': pick('longrun-signature'),
      'longrun-signature-v2': pick('longrun-signature-v2'),
      ...headers,
    },
    body: r.raw,
  });
  return res.status;
}

describe('Longrun-Signature-V2', () => {
  it('signs the time of the attempt with the body: verifyWebhook accepts it, and refuses it replayed after 5 minutes', async () => {
    expect(await notified('/captured')).toMatchObject({ status: 'SENT', attempts: 1 });
    const [sent] = receiver.requests.filter((r) => r.path === '/captured');
    expect(sent!.status).toBe(200);
    expect(sent!.headers['longrun-signature-v2']).toMatch(/^t=\d+,sha256=[0-9a-f]{64}$/);
    expect(Math.abs(timestampOf(sent!) - sent!.at / 1000)).toBeLessThan(5);

    // Replayed at once, it still verifies (within the tolerance, the receiver's dedupe on deliveryId is what holds).
    expect(await replay(sent!)).toBe(200);
    // Replayed 5 minutes and a second later: refused.
    receiverClockAheadMs = FIVE_MINUTES_MS + 1000;
    expect(await replay(sent!)).toBe(401);
    // With `t` moved to the receiver's now, the signature no longer matches: refused too.
    const now = Math.floor((Date.now() + receiverClockAheadMs) / 1000);
    const forged = String(sent!.headers['longrun-signature-v2']).replace(/^t=\d+/, `t=${now}`);
    expect(await replay(sent!, { 'longrun-signature-v2': forged })).toBe(401);
    receiverClockAheadMs = 0;
    expect(receiver.requests.filter((r) => r.path === '/captured').map((r) => r.status)).toEqual([200, 200, 401, 401]);
    expect(verdicts.slice(-4).map((v) => v.readme)).toEqual([true, true, false, false]);
  });

  it('gives a retry the time it is sent, signed anew: the same body, a later t, and it verifies', async () => {
    receiver.script('/retried', [503, 200]);
    expect(await notified('/retried')).toMatchObject({ status: 'SENT', attempts: 2 });
    const [first, second] = receiver.requests.filter((r) => r.path === '/retried');
    expect([first!.status, second!.status]).toEqual([503, 200]);
    expect(second!.raw).toBe(first!.raw);
    expect(second!.headers['longrun-signature']).toBe(first!.headers['longrun-signature']);
    // NOTIFY_BACKOFF_MS 1500 (± 20 %): the retry is sent at least 1.2 s after the first attempt.
    expect(timestampOf(second!)).toBeGreaterThan(timestampOf(first!));
    expect(Math.abs(timestampOf(second!) - second!.at / 1000)).toBeLessThan(5);
    expect(verifyWebhook({ secret: SECRET, header: second!.headers['longrun-signature-v2'], rawBody: second!.raw, now: second!.at })).toBe(true);
    expect(readme(second!.raw, second!.headers['longrun-signature-v2'], SECRET, second!.at)).toBe(true);
    // Every request the receiver got (both attempts here; the replays too when the test above ran): the
    // README's verifier agrees with the SDK.
    expect(verdicts.length).toBeGreaterThanOrEqual(2);
    expect(verdicts.filter((v) => v.readme !== v.sdk)).toEqual([]);
  });
});
