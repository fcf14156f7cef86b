/**
 * Tracing off: a `traceparent` given at submit is passed through to the worker and the webhook header only
 * when it is one (W3C trace context: version-traceid-parentid-flags in lowercase hex). Anything else in the
 * header is dropped at the edge, as the W3C spec asks, instead of being stored and sent on to receivers.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, gql, waitForJob } from '../support/graphql.js';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';

const SUBMIT = `mutation Submit($input: SubmitJobInput!) { submitJob(input: $input) { job { id } userErrors { code } } }`;

let t: TestApp;
let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  t = await startTestApp({ config: { WEBHOOK_SECRET: 'passthrough-secret-0123456789', WEBHOOK_ALLOW_PRIVATE: '1' } });
});
afterAll(async () => {
  await t?.dispose();
  await receiver?.close();
});

/** The `traceparent` header of the webhook of a job submitted with `traceparent`. */
async function forwarded(traceparent: string, path: string): Promise<string | undefined> {
  const input = { type: 'demo.noop', notify: [{ webhook: `${receiver.url}/${path}` }] };
  const r = await gql(t.url, SUBMIT, { input }, { authorization: bearer(t.key!), traceparent });
  await waitForJob(t.url, r.body.data.submitJob.job.id, (j) => j.state === 'SUCCEEDED');
  const hook = await eventually(() => receiver.requests.find((q) => q.path === `/${path}`), 30_000, `webhook ${path}`);
  return hook.headers.traceparent as string | undefined;
}

it('passes a valid traceparent through to the webhook, and drops one that is not', async () => {
  const valid = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
  expect(await forwarded(valid, 'valid')).toBe(valid);
  expect(await forwarded('x'.repeat(4000), 'long')).toBeUndefined();
  expect(await forwarded(`00-${'0'.repeat(32)}-${randomBytes(8).toString('hex')}-01`, 'zero')).toBeUndefined();
});
