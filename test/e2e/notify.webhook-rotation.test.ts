/**
 * Rotating the webhook secret from longrun's side: with WEBHOOK_SECRET (the new one) and
 * WEBHOOK_SECRET_PREVIOUS (the old one), `Longrun-Signature-V2` carries one signature per secret, the current
 * first, so a receiver still on the old secret and one already on the new both verify it (with the SDK's
 * `verifyWebhook`, and the README's copyable verifier agrees), each holding one key. `Longrun-Signature` stays
 * what it always was: the current secret's.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../sdk/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, SUBMIT } from '../support/graphql.js';
import { readmeVerifier, type VerifyLongrunWebhook } from '../support/readme-verifier.js';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';

const NEW_SECRET = 'rotation-new-secret-0123456789';
const OLD_SECRET = 'rotation-old-secret-0123456789';

let t: TestApp;
/** Two receivers, each holding one secret, that refuse (401) what it does not verify. */
let onOld: WebhookReceiver, onNew: WebhookReceiver;
let readme: VerifyLongrunWebhook;
beforeAll(async () => {
  readme = await readmeVerifier();
  const holding = (secret: string) =>
    startWebhookReceiver({ check: (headers, raw) => (verifyWebhook({ secret, header: headers['longrun-signature-v2'], rawBody: raw }) ? undefined : 401) });
  [onOld, onNew] = await Promise.all([holding(OLD_SECRET), holding(NEW_SECRET)]);
  t = await startTestApp({ config: { WEBHOOK_SECRET: NEW_SECRET, WEBHOOK_SECRET_PREVIOUS: OLD_SECRET, WEBHOOK_ALLOW_PRIVATE: '1', NOTIFY_MAX_ATTEMPTS: '1' } });
});
afterAll(async () => {
  await t?.dispose();
  await Promise.all([onOld?.close(), onNew?.close()]);
});

describe('webhook secret rotation', () => {
  it('signs Longrun-Signature-V2 with both secrets, the current first: receivers on either verify it', async () => {
    const notify = [{ webhook: `${onOld.url}/hook` }, { webhook: `${onNew.url}/hook` }];
    const r = await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1, steps: 1 }, notify } });
    const id = r.body.data.submitJob.job.id;
    const sent = await eventually(async () => {
      const ns = (await gql(t.url, `query($id: ID!) { job(id: $id) { notifications { status } } }`, { id })).body.data.job.notifications;
      return ns.length === 2 && ns.every((n: { status: string }) => n.status !== 'PENDING') ? ns : undefined;
    }, 30_000, 'both deliveries settled');
    expect(sent.map((n: { status: string }) => n.status)).toEqual(['SENT', 'SENT']);

    for (const [receiver, secret] of [[onOld, OLD_SECRET], [onNew, NEW_SECRET]] as const) {
      expect(receiver.requests.map((q) => q.status)).toEqual([200]);
      const { headers, raw, at } = receiver.requests[0]!;
      expect(readme(raw, headers['longrun-signature-v2'], secret, at)).toBe(true);
      const [, ts, first, second] = /^t=(\d+),sha256=([0-9a-f]{64}),sha256=([0-9a-f]{64})$/.exec(String(headers['longrun-signature-v2'])) ?? [];
      expect(first).toBe(createHmac('sha256', NEW_SECRET).update(`${ts}.${raw}`).digest('hex'));
      expect(second).toBe(createHmac('sha256', OLD_SECRET).update(`${ts}.${raw}`).digest('hex'));
      // The old header: the body alone, keyed with the current secret only, as before.
      expect(headers['longrun-signature']).toBe(`sha256=${createHmac('sha256', NEW_SECRET).update(raw).digest('hex')}`);
    }
  });

  it('webhookSigning says the server signs (SERVER scope, the default) and hands out no secret', async () => {
    const r = await gql(t.url, `{ webhookSigning { scope owner secret previousSecret } }`);
    expect(r.body.data.webhookSigning).toEqual({ scope: 'SERVER', owner: 'test', secret: null, previousSecret: null });
  });
});
