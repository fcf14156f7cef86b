/**
 * The SDK's `verifyWebhook` against headers made by the server's own signer (`signTimestamped`): what is
 * genuine and recent passes; a wrong key, an altered body or `t`, an old or future `t` and anything malformed
 * fail without throwing. The README's copyable verifier (for receivers not on TypeScript) gives the same
 * verdict on every shared case, so the two cannot drift apart.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../sdk/index.js';
import { signTimestamped } from '../../src/notifications/webhook.js';
import { readmeVerifier, type VerifyLongrunWebhook } from '../support/readme-verifier.js';

const SECRET = 'current-secret-0123456789';
const PREVIOUS = 'previous-secret-0123456789';
const BODY = '{"deliveryId":"d-1","event":"job.SUCCEEDED","job":{"id":"j-1","result":{"n":"é"}}}';
const NOW_MS = 1_800_000_000_000;
const T = NOW_MS / 1000;
const signed = (secrets: string[], t = T, body = BODY) => signTimestamped(body, secrets, t);

/** A request a receiver holding SECRET gets, and whether it should pass. */
interface Case {
  name: string;
  header: string | undefined;
  body?: string | Buffer;
  pass: boolean;
}
const cases: Case[] = [
  { name: 'a genuine request', header: signed([SECRET]), pass: true },
  { name: 'a Buffer body', header: signed([SECRET]), body: Buffer.from(BODY), pass: true },
  { name: 'a second sha256= made with the receiver’s key (rotation: current, previous)', header: signed([PREVIOUS, SECRET]), pass: true },
  { name: 't exactly 5 minutes old', header: signed([SECRET], T - 300), pass: true },
  { name: 'another secret', header: signed([PREVIOUS]), pass: false },
  { name: 'a tampered body', header: signed([SECRET]), body: BODY.replace('SUCCEEDED', 'FAILED'), pass: false },
  { name: 'a tampered Buffer body', header: signed([SECRET]), body: Buffer.from(BODY.replace('j-1', 'j-2')), pass: false },
  { name: 't moved (the signature covers it)', header: signed([SECRET]).replace(`t=${T}`, `t=${T + 1}`), pass: false },
  { name: 't 5 minutes and a second old', header: signed([SECRET], T - 301), pass: false },
  { name: 't 5 minutes and a second ahead', header: signed([SECRET], T + 301), pass: false },
  { name: 'a t that is not a number', header: signed([SECRET]).replace(`t=${T}`, 't=soon'), pass: false },
  { name: 'no sha256=', header: `t=${T}`, pass: false },
  { name: 'a truncated signature', header: signed([SECRET]).slice(0, -1), pass: false },
  { name: 'the signature upper-cased', header: signed([SECRET]).toUpperCase().replace('T=', 't=').replace('SHA256=', 'sha256='), pass: false },
  { name: 'no t (the old Longrun-Signature format)', header: signed([SECRET]).replace(`t=${T},`, ''), pass: false },
  { name: 'garbage', header: '=,,==,t,sha256', pass: false },
  { name: 'an empty header', header: '', pass: false },
  { name: 'no header', header: undefined, pass: false },
];

describe('verifyWebhook', () => {
  it.each(cases)('$name: passes = $pass', ({ header, body = BODY, pass }) => {
    expect(verifyWebhook({ secret: SECRET, header, rawBody: body, now: NOW_MS })).toBe(pass);
  });

  it('accepts any secret of a list, and refuses when none matches', () => {
    const header = signed([PREVIOUS]);
    expect(verifyWebhook({ secret: [SECRET, PREVIOUS], header, rawBody: BODY, now: NOW_MS })).toBe(true);
    expect(verifyWebhook({ secret: [SECRET, 'another-secret-0123456789'], header, rawBody: BODY, now: NOW_MS })).toBe(false);
  });

  it('takes a Uint8Array body and a header given as a one-element array (as Node may)', () => {
    const rawBody = new TextEncoder().encode(BODY);
    expect(verifyWebhook({ secret: SECRET, header: [signed([SECRET])], rawBody, now: NOW_MS })).toBe(true);
  });

  it('refuses a header with two t fields', () => {
    const header = `t=${T - 10_000},${signed([SECRET])}`;
    expect(verifyWebhook({ secret: SECRET, header, rawBody: BODY, now: NOW_MS })).toBe(false);
  });

  it('uses toleranceSeconds instead of 5 minutes, and the clock when now is not given', () => {
    const header = signed([SECRET], T - 60);
    expect(verifyWebhook({ secret: SECRET, header, rawBody: BODY, now: NOW_MS, toleranceSeconds: 59 })).toBe(false);
    expect(verifyWebhook({ secret: SECRET, header, rawBody: BODY, now: NOW_MS, toleranceSeconds: 60 })).toBe(true);
    const fresh = signed([SECRET], Math.floor(Date.now() / 1000));
    expect(verifyWebhook({ secret: SECRET, header: fresh, rawBody: BODY })).toBe(true);
    expect(verifyWebhook({ secret: SECRET, header, rawBody: BODY })).toBe(false);
  });

  it('throws on an empty secret or none (a configuration mistake), not on a bad header', () => {
    expect(() => verifyWebhook({ secret: '', header: signed([SECRET]), rawBody: BODY })).toThrow(TypeError);
    expect(() => verifyWebhook({ secret: [], header: signed([SECRET]), rawBody: BODY })).toThrow(TypeError);
  });

  it('throws on a toleranceSeconds or now that is not a number (NaN, from an unset setting) instead of accepting a request of any age', () => {
    const old = signed([SECRET], T - 86_400 * 365);
    expect(() => verifyWebhook({ secret: SECRET, header: old, rawBody: BODY, now: NOW_MS, toleranceSeconds: Number(undefined) })).toThrow(TypeError);
    expect(() => verifyWebhook({ secret: SECRET, header: old, rawBody: BODY, now: NaN })).toThrow(TypeError);
    expect(() => verifyWebhook({ secret: SECRET, header: old, rawBody: BODY, now: NOW_MS, toleranceSeconds: -1 })).toThrow(TypeError);
  });
});

describe('the README’s copyable verifier', () => {
  let readme: VerifyLongrunWebhook;
  beforeAll(async () => {
    readme = await readmeVerifier();
  });

  it.each(cases)('$name: passes = $pass, as verifyWebhook says', ({ header, body = BODY, pass }) => {
    expect(readme(body, header, SECRET, NOW_MS)).toBe(pass);
  });
});
