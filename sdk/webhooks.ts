/**
 * For receivers of longrun's webhooks: {@link verifyWebhook} checks `Longrun-Signature-V2` (HMAC-SHA256 of
 * `<t>.` + the raw body, `t` the unix seconds of the attempt), and {@link WebhookBody} types what was signed.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { JobState } from './generated/graphql.js';

/** The headers of a webhook request, lower-cased as Node's `req.headers` has them. */
export const WEBHOOK_HEADERS = {
  /** `t=<unix seconds>,sha256=<hex>[,sha256=<hex>]`: what {@link verifyWebhook} checks. */
  signature: 'longrun-signature-v2',
  /** `sha256=<hex>` of the body alone: no timestamp, the same on every attempt (kept for older receivers). */
  legacySignature: 'longrun-signature',
  /** The delivery id, unsigned: dedupe on the body's `deliveryId` instead. */
  deliveryId: 'longrun-delivery-id',
  /** `job.SUCCEEDED`, `job.FAILED` or `job.CANCELLED`, unsigned: route on the body's `event` instead. */
  event: 'longrun-event',
} as const;

/** How far `t` may be from the receiver's clock, either way, by default: 5 minutes. */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

/** A state a job is notified of. */
export type WebhookJobState = Extract<JobState, 'SUCCEEDED' | 'FAILED' | 'CANCELLED'>;

/** The JSON body of a webhook: the job as it was at its terminal transition (the same bytes on every retry). */
export interface WebhookBody {
  /** The same on every retry of this delivery: act on it once. */
  deliveryId: string;
  event: `job.${WebhookJobState}`;
  job: {
    id: string;
    type: string;
    state: WebhookJobState;
    result: unknown;
    error: string | null;
    attempts: number;
    maxAttempts: number;
    /** ISO 8601 */
    createdAt: string;
    /** ISO 8601; null for a job cancelled before it started. */
    startedAt: string | null;
    /** ISO 8601 */
    finishedAt: string;
  };
}

export interface VerifyWebhookOptions {
  /** The secret, or several (a receiver switching its own key accepts either while it does). */
  secret: string | readonly string[];
  /** The `Longrun-Signature-V2` header as received (`req.headers['longrun-signature-v2']`, `headers.get(…)`). */
  header: string | readonly string[] | null | undefined;
  /** The body exactly as received, before any JSON parsing. */
  rawBody: string | Uint8Array;
  /** The receiver's clock, ms since the epoch. @default Date.now() */
  now?: number;
  /** How far `t` may be from `now`, either way. @default 300 (WEBHOOK_TOLERANCE_SECONDS) */
  toleranceSeconds?: number;
}

/** The fields of a `t=…,sha256=…` header: its one `t` and its signatures; null when malformed. */
function parseSignature(header: string): { t: string; signatures: string[] } | null {
  const fields = header.split(',').map((field) => {
    const at = field.indexOf('=');
    return at < 0 ? ['', ''] : [field.slice(0, at).trim(), field.slice(at + 1).trim()];
  });
  const ts = fields.filter(([name]) => name === 't').map(([, value]) => value!);
  const signatures = fields.filter(([name, value]) => name === 'sha256' && /^[0-9a-f]{64}$/.test(value!)).map(([, value]) => value!);
  return ts.length === 1 && /^\d{1,12}$/.test(ts[0]!) && signatures.length > 0 ? { t: ts[0]!, signatures } : null;
}

/**
 * Whether `header` (`Longrun-Signature-V2`) signs `rawBody` with one of the secrets, and its `t` is within
 * `toleranceSeconds` of `now`. Any one `sha256=` matching any secret passes (during a rotation longrun sends
 * one per secret). Compared in constant time. A missing or malformed header is `false`, never an error; an
 * empty secret, or none, or a `now` or `toleranceSeconds` that is NaN (or a negative tolerance) throws (a
 * configuration mistake, not a bad request).
 *
 * @example
 * ```ts
 * import { verifyWebhook, type WebhookBody } from 'longrun/sdk';
 *
 * const rawBody = Buffer.concat(chunks); // the body as received
 * if (!verifyWebhook({ secret: process.env.LONGRUN_WEBHOOK_SECRET!, header: req.headers['longrun-signature-v2'], rawBody })) {
 *   return res.writeHead(401).end(); // not 410: that would dead-letter a genuine delivery
 * }
 * const { deliveryId, event, job } = JSON.parse(rawBody.toString()) as WebhookBody;
 * ```
 */
export function verifyWebhook(o: VerifyWebhookOptions): boolean {
  const secrets = typeof o.secret === 'string' ? [o.secret] : o.secret;
  if (secrets.length === 0 || secrets.some((s) => typeof s !== 'string' || s === '')) {
    throw new TypeError('verifyWebhook: secret must be a non-empty string or a list of them');
  }
  const now = o.now ?? Date.now();
  const tolerance = o.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  // NaN (an unset setting read as a number) would pass every age: no check of `t` at all.
  if (Number.isNaN(now) || !(tolerance >= 0)) throw new TypeError('verifyWebhook: now and toleranceSeconds must be numbers, toleranceSeconds 0 or more');
  const header = typeof o.header === 'string' ? o.header : (o.header ?? []).join(',');
  const parsed = parseSignature(header);
  if (!parsed) return false;
  if (Math.abs(now / 1000 - Number(parsed.t)) > tolerance) return false;
  const given = parsed.signatures.map((hex) => Buffer.from(hex));
  return secrets.some((secret) => {
    const expected = Buffer.from(createHmac('sha256', secret).update(`${parsed.t}.`).update(o.rawBody).digest('hex'));
    return given.some((signature) => timingSafeEqual(signature, expected));
  });
}
