/**
 * WEBHOOK_SECRET_SCOPE=owner: each owner's webhooks are signed with a secret of that owner's own, derived from
 * the server's (the README's formula), which the owner reads with `webhookSigning`. A receiver holding alice's
 * secret verifies alice's webhooks and refuses bob's; one holding the server's secret verifies neither. While
 * WEBHOOK_SECRET_PREVIOUS is set, the owner's previous secret (derived from it) signs second. Another owner's
 * secrets need an admin key.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, verifyWebhook } from '../../sdk/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, gql, SUBMIT } from '../support/graphql.js';
import { readmeVerifier, type VerifyLongrunWebhook } from '../support/readme-verifier.js';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';

const SERVER_SECRET = 'owner-scope-server-secret-0123456789';
const PREVIOUS_SECRET = 'owner-scope-previous-secret-0123456789';
/** The README's derivation, written out independently of the server's code. */
const derived = (serverSecret: string, owner: string) =>
  `whsec_${createHmac('sha256', serverSecret).update(`longrun webhook secret for owner ${owner}`).digest('hex')}`;

const SIGNING = `query($owner: String) { webhookSigning(owner: $owner) { scope owner secret previousSecret } }`;

let t: TestApp;
const as: Record<'alice' | 'bob' | 'admin', Record<string, string>> = { alice: {}, bob: {}, admin: {} };
/** Receivers that refuse (401) what their one secret does not verify. */
let holdsAlice: WebhookReceiver, holdsServer: WebhookReceiver;
let readme: VerifyLongrunWebhook;
let aliceKey: string;

beforeAll(async () => {
  readme = await readmeVerifier();
  const holding = (secret: string) =>
    startWebhookReceiver({ check: (headers, raw) => (verifyWebhook({ secret, header: headers['longrun-signature-v2'], rawBody: raw }) ? undefined : 401) });
  [holdsAlice, holdsServer] = await Promise.all([holding(derived(SERVER_SECRET, 'alice')), holding(SERVER_SECRET)]);
  t = await startTestApp({
    config: { WEBHOOK_SECRET: SERVER_SECRET, WEBHOOK_SECRET_PREVIOUS: PREVIOUS_SECRET, WEBHOOK_SECRET_SCOPE: 'owner', WEBHOOK_ALLOW_PRIVATE: '1', NOTIFY_MAX_ATTEMPTS: '1' },
  });
  aliceKey = (await t.createKey('alice')).key;
  as.alice = { authorization: bearer(aliceKey) };
  as.bob = { authorization: bearer((await t.createKey('bob')).key) };
  as.admin = { authorization: bearer((await t.createKey('root', true)).key) };
});
afterAll(async () => {
  await t?.dispose();
  await Promise.all([holdsAlice?.close(), holdsServer?.close()]);
});

type Who = keyof typeof as;

/** Submits a job as `who` notifying both receivers, and answers the statuses of its two deliveries once settled. */
async function notifyBoth(who: Who): Promise<string[]> {
  const notify = [{ webhook: `${holdsAlice.url}/${who}` }, { webhook: `${holdsServer.url}/${who}` }];
  const r = await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1, steps: 1 }, notify } }, as[who]);
  expect(r.body.data.submitJob.userErrors).toEqual([]);
  const id = r.body.data.submitJob.job.id;
  const settled = await eventually(async () => {
    const ns = (await gql(t.url, `query($id: ID!) { job(id: $id) { notifications { target status } } }`, { id }, as[who])).body.data.job.notifications;
    return ns.length === 2 && ns.every((n: { status: string }) => n.status !== 'PENDING') ? ns : undefined;
  }, 30_000, 'both deliveries settled');
  return settled.map((n: { target: string; status: string }) => `${new URL(n.target).port === new URL(holdsAlice.url).port ? 'alice' : 'server'}: ${n.status}`);
}

describe('webhook secrets per owner', () => {
  it("webhookSigning answers the caller's own secrets, derived from the server's current and previous ones", async () => {
    const r = await gql(t.url, SIGNING, {}, as.alice);
    expect(r.body.data.webhookSigning).toEqual({
      scope: 'OWNER',
      owner: 'alice',
      secret: derived(SERVER_SECRET, 'alice'),
      previousSecret: derived(PREVIOUS_SECRET, 'alice'),
    });
    expect((await gql(t.url, SIGNING, { owner: 'alice' }, as.alice)).body.data.webhookSigning.secret).toBe(derived(SERVER_SECRET, 'alice'));
    // The SDK's method answers the same.
    const sdk = createClient({ url: t.url, token: aliceKey });
    try {
      expect(await sdk.webhookSigning()).toEqual(r.body.data.webhookSigning);
    } finally {
      await sdk.close();
    }
  });

  it("another owner's secrets: FORBIDDEN for an owner's key, answered for an admin's", async () => {
    const refused = await gql(t.url, SIGNING, { owner: 'bob' }, as.alice);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(refused.body.data).toBeNull();
    const admin = await gql(t.url, SIGNING, { owner: 'bob' }, as.admin);
    expect(admin.body.data.webhookSigning).toMatchObject({ scope: 'OWNER', owner: 'bob', secret: derived(SERVER_SECRET, 'bob') });
  });

  it("alice's webhooks verify with alice's secret only, not with the server's", async () => {
    expect(await notifyBoth('alice')).toEqual(['alice: SENT', 'server: FAILED']);
    const { headers, raw, at } = holdsAlice.requests.find((q) => q.path === '/alice')!;
    // Both signatures of the V2 header are the owner's: the current secret's first, the previous one's second.
    const [, ts, first, second] = /^t=(\d+),sha256=([0-9a-f]{64}),sha256=([0-9a-f]{64})$/.exec(String(headers['longrun-signature-v2'])) ?? [];
    expect(first).toBe(createHmac('sha256', derived(SERVER_SECRET, 'alice')).update(`${ts}.${raw}`).digest('hex'));
    expect(second).toBe(createHmac('sha256', derived(PREVIOUS_SECRET, 'alice')).update(`${ts}.${raw}`).digest('hex'));
    expect(headers['longrun-signature']).toBe(`sha256=${createHmac('sha256', derived(SERVER_SECRET, 'alice')).update(raw).digest('hex')}`);
    expect(readme(raw, headers['longrun-signature-v2'], derived(SERVER_SECRET, 'alice'), at)).toBe(true);
  });

  it("bob's webhooks are refused by a receiver holding alice's secret (and by one holding the server's)", async () => {
    expect(await notifyBoth('bob')).toEqual(['alice: FAILED', 'server: FAILED']);
    const { headers, raw, at } = holdsAlice.requests.find((q) => q.path === '/bob')!;
    expect(verifyWebhook({ secret: derived(SERVER_SECRET, 'bob'), header: headers['longrun-signature-v2'], rawBody: raw, now: at })).toBe(true);
  });
});
