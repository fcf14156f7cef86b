/**
 * Webhook delivery: a JSON POST signed with HMAC-SHA256 of the exact body bytes.
 *
 * Headers: `Longrun-Delivery-Id` (the same on every retry; receivers dedupe on the body's `deliveryId`, which
 * the signature covers, not on this header, which it does not), `Longrun-Event`
 * (`job.SUCCEEDED`, …), `Longrun-Signature: sha256=<hex of HMAC-SHA256(secret, body)>` (as it always
 * was; the secret is WEBHOOK_SECRET, or the job owner's own in owner scope: signing.ts), `Longrun-Signature-V2: t=<unix seconds of this attempt>,sha256=<hex of HMAC-SHA256(secret, "<t>." + body)>`
 * (so a receiver can refuse a captured request replayed later; with WEBHOOK_SECRET_PREVIOUS set, a second
 * `sha256=` keyed with the previous secret), and the job's `traceparent`. Any 2xx status accepts the delivery (its body is not read); 410 Gone dead-letters it;
 * anything else, a timeout or a network error is retried (not before a `Retry-After` the answer gives). WEBHOOK_TIMEOUT_MS bounds the whole exchange, however slowly the receiver trickles.
 * Every address the host resolves to is checked against the address policy before connecting.
 */
import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { DeliveryAttempt, DeliveryToSend } from '../db/notifications.js';
import { secretsFor, type WebhookSigning } from './signing.js';
import { addressRefusal, isListed, policyRefusal, type WebhookPolicy } from './address-policy.js';

/**
 * A send that failed; `permanent` ones are not retried (the address is refused, or the receiver answered
 * 410 Gone). `retryAfterMs`: how long the receiver asked to be left alone (its `Retry-After`).
 */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  constructor(
    message: string,
    readonly permanent = false,
    options?: { cause?: unknown; retryAfterMs?: number | undefined },
  ) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
  readonly retryAfterMs: number | undefined;
}
export const isDeliveryError = (e: unknown): e is DeliveryError => e instanceof DeliveryError;

const iso = (v: unknown) => (typeof v === 'string' ? new Date(v).toISOString() : null);

/** The JSON every channel reports: the delivery id, the event and the job as of its terminal transition. */
export function notificationBody(d: DeliveryToSend): Record<string, unknown> {
  const job = d.body as Record<string, unknown>;
  return {
    deliveryId: d.id,
    event: `job.${d.jobState}`,
    job: {
      id: job.id,
      type: job.type,
      state: job.state,
      result: job.result ?? null,
      error: job.error ?? null,
      attempts: job.attempts,
      maxAttempts: job.maxAttempts,
      createdAt: iso(job.createdAt),
      startedAt: iso(job.startedAt),
      finishedAt: iso(job.finishedAt),
    },
  };
}

/** A `Retry-After` value (seconds, or an HTTP date) in ms from `now`; undefined when absent or not one. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) || !/[a-z]/i.test(v) ? undefined : Math.max(0, at - now);
}

/** `sha256=<hex>`: what `Longrun-Signature` carries. */
export const signBody = (body: string, secret: string): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/**
 * `t=<t>,sha256=<hex>[,sha256=<hex>…]`: what `Longrun-Signature-V2` carries, the HMAC-SHA256 of `<t>.<body>`
 * keyed with each secret in turn (`t` in unix seconds, the time of this attempt). The timestamp is in the
 * signed header only, so a receiver cannot check its age on one copy and the signature on another.
 */
export const signTimestamped = (body: string, secrets: readonly string[], t: number): string =>
  [`t=${t}`, ...secrets.map((secret) => signBody(`${t}.${body}`, secret))].join(',');

export interface WebhookOptions {
  /**
   * Which secrets sign a delivery (signing.ts): the current one signs `Longrun-Signature` and comes first in
   * `Longrun-Signature-V2`; the one it replaced, while receivers switch, comes second there.
   */
  signing: WebhookSigning;
  timeoutMs: number;
  policy: WebhookPolicy;
}

/** A DNS lookup that refuses any address the policy forbids (unless the host is on the allow-list). */
function guardedLookup(policy: WebhookPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const refusal = isListed(hostname, policy) ? null : addresses.map((a) => addressRefusal(a.address, policy)).find(Boolean);
      if (refusal) return callback(new DeliveryError(`webhook refused: ${refusal}`, true), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}

/** POSTs the delivery; resolves on 2xx, throws a `DeliveryError` otherwise. */
export function sendWebhook(d: DeliveryAttempt, o: WebhookOptions, traceparent: string | null): Promise<void> {
  const body = JSON.stringify(notificationBody(d));
  const { secret, previousSecret } = secretsFor(o.signing, d.owner);
  const url = new URL(d.target);
  const client = url.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'longrun-webhook/1',
    'longrun-delivery-id': d.id,
    'longrun-event': `job.${d.jobState}`,
    'longrun-signature': signBody(body, secret),
    'longrun-signature-v2': signTimestamped(body, previousSecret ? [secret, previousSecret] : [secret], Math.floor(Date.now() / 1000)),
  };
  if (traceparent) headers.traceparent = traceparent;
  const refused = policyRefusal(url, o.policy);
  if (refused) return Promise.reject(new DeliveryError(refused, true));
  return new Promise((resolve, reject) => {
    // One deadline for the whole exchange, from the request to the answer's status (and the first 500
    // characters of a refusal's body): the socket's own timeout only measures silence, so a receiver that
    // trickles its headers or an endless body would hold the send (and a notifier slot) for ever.
    let refuse: (() => void) | null = null; // set once a refusal's status is known
    const deadline = setTimeout(() => (refuse ? refuse() : req.destroy(new DeliveryError(`no response within ${o.timeoutMs} ms`))), o.timeoutMs);
    const settle = (e?: DeliveryError) => {
      clearTimeout(deadline);
      if (e) reject(e);
      else resolve();
    };
    const req = client.request(url, { method: 'POST', headers, timeout: o.timeoutMs, lookup: guardedLookup(o.policy) }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        // Accepted: the body says nothing more, and may never end.
        settle();
        return void res.destroy();
      }
      let text = '';
      // Redirects are not followed (the address policy checked this URL, not the next): say where it points.
      const location = status >= 300 && status < 400 ? res.headers.location : undefined;
      const moved = location ? ` (redirect to ${location.slice(0, 300)}, not followed: notify that URL instead)` : '';
      // 410 Gone: the receiver says this URL is gone for good, so no retry. A Retry-After (429, 503) says when
      // to come back.
      const wait = retryAfterMs(res.headers['retry-after']);
      refuse = () => {
        const said = `${moved}${wait !== undefined ? ` (retry after ${Math.round(wait / 1000)} s)` : ''}${text ? `: ${text.slice(0, 200).trim()}` : ''}`;
        settle(new DeliveryError(`HTTP ${status}${said}`, status === 410, { retryAfterMs: wait }));
        res.destroy();
      };
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
        if (text.length >= 500) refuse!();
      });
      res.on('end', refuse);
      res.on('error', (e) => settle(isDeliveryError(e) ? e : new DeliveryError(`response failed: ${e.message}`, false, { cause: e })));
    });
    req.on('timeout', () => req.destroy(new DeliveryError(`no response within ${o.timeoutMs} ms`)));
    req.on('error', (e) => settle(isDeliveryError(e) ? e : new DeliveryError(`request failed: ${e.message}`, false, { cause: e })));
    req.end(body);
  });
}
