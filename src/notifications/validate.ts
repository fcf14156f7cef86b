/**
 * `SubmitJobInput.notify`: checked at submit, before anything is written.
 */
import { UserErrorCode, type UserError } from '../errors.js';
import { isStorableText } from '../jobs/payload-check.js';
import { JobState, TERMINAL_STATES } from '../jobs/state.js';
import type { NewNotification } from '../db/notifications.js';
import { checkWebhookUrl, type WebhookPolicy } from './address-policy.js';
import type { WebhookSigning } from './signing.js';

/** One `NotifyInput`. */
export interface NotifyInput {
  webhook?: string | null | undefined;
  email?: string | null | undefined;
  on?: readonly JobState[] | null | undefined;
}

/** What the server can send (from its configuration). */
export interface NotifySettings {
  /** How webhooks are signed; null when WEBHOOK_SECRET is unset (webhooks are refused). */
  webhooks: WebhookSigning | null;
  /** SMTP_URL is set. */
  email: boolean;
  policy: WebhookPolicy;
}

/** @default SUCCEEDED, FAILED */
export const DEFAULT_NOTIFY_ON: readonly JobState[] = [JobState.SUCCEEDED, JobState.FAILED];
export const MAX_NOTIFY_PER_JOB = 10;

/**
 * local@domain.tld: each side dot-separated parts, none empty (no `example..com`, no dot at either end), with no
 * spaces, controls or other invisible characters (NUL, a zero-width space; `\p{C}`) or characters that need
 * quoting.
 */
const PART = String.raw`[^\s\p{C}@<>()",;:\\[\].]+`;
const EMAIL = new RegExp(`^${PART}(?:\\.${PART})*@${PART}(?:\\.${PART})+$`, 'u');

/** A checked subscription, without its job id and subject (added when the job is inserted). */
export type CheckedNotification = Pick<NewNotification, 'channel' | 'target' | 'onStates'>;

/** Checks every entry; `at` is the path of the `notify` field. */
export function validateNotify(
  list: readonly NotifyInput[] | null | undefined,
  settings: NotifySettings | undefined,
  at: string[],
): { notifications: CheckedNotification[] } | { errors: UserError[] } {
  if (!list?.length) return { notifications: [] };
  const errors: UserError[] = [];
  const err = (code: UserErrorCode, field: string[], message: string) => errors.push({ code, field, message });
  if (list.length > MAX_NOTIFY_PER_JOB) {
    err(UserErrorCode.OUT_OF_RANGE, at, `at most ${MAX_NOTIFY_PER_JOB} notify entries per job`);
    return { errors };
  }
  const notifications: CheckedNotification[] = [];
  list.forEach((n, i) => {
    const path = [...at, String(i)];
    const onStates = [...new Set(n.on ?? DEFAULT_NOTIFY_ON)];
    const bad = onStates.filter((s) => !TERMINAL_STATES.includes(s));
    if (!onStates.length || bad.length) {
      err(UserErrorCode.INVALID_NOTIFY, [...path, 'on'], `on must list terminal states (${TERMINAL_STATES.join(', ')})`);
    }
    const hasWebhook = n.webhook !== null && n.webhook !== undefined;
    const hasEmail = n.email !== null && n.email !== undefined;
    if (hasWebhook === hasEmail) {
      err(UserErrorCode.INVALID_NOTIFY, path, 'give exactly one of webhook or email');
    } else if (hasWebhook) {
      if (!settings?.webhooks) {
        err(UserErrorCode.NOTIFY_NOT_CONFIGURED, [...path, 'webhook'], 'this server sends no webhooks (WEBHOOK_SECRET is not set)');
        return;
      }
      const checked = checkWebhookUrl(n.webhook!, settings.policy);
      if ('code' in checked) err(UserErrorCode[checked.code], [...path, 'webhook'], checked.message);
      else notifications.push({ channel: 'WEBHOOK', target: checked.url.toString(), onStates });
    } else {
      if (!settings?.email) {
        err(UserErrorCode.NOTIFY_NOT_CONFIGURED, [...path, 'email'], 'this server sends no email (SMTP_URL is not set)');
        return;
      }
      const email = n.email!.trim();
      if (email.length > 254 || !EMAIL.test(email) || !isStorableText(email)) err(UserErrorCode.INVALID_EMAIL, [...path, 'email'], 'not an email address');
      else notifications.push({ channel: 'EMAIL', target: withDomainLowerCased(email), onStates });
    }
  });
  return errors.length ? { errors } : { notifications: oncePerTarget(notifications) };
}

/**
 * The address with its domain in lower case, as a URL's host is read: `Ops@Example.COM` and `ops@example.com`
 * name one mailbox's domain, so entries naming it are one. The local part is the receiving server's to read:
 * kept as written.
 */
function withDomainLowerCased(email: string): string {
  const at = email.lastIndexOf('@');
  return email.slice(0, at + 1) + email.slice(at + 1).toLowerCase();
}

/**
 * One subscription per webhook (as normalized) or email address, with the `on` lists of the entries naming it
 * merged: an event reaches it once. Each entry a subscription of its own, a URL named twice (a default list
 * merged with a job's own) got every event twice, under two delivery ids, so a receiver deduping on the
 * delivery id acted on it twice.
 */
function oncePerTarget(list: readonly CheckedNotification[]): CheckedNotification[] {
  const byTarget = new Map<string, CheckedNotification>();
  for (const n of list) {
    const key = `${n.channel} ${n.target}`;
    const first = byTarget.get(key);
    if (first) first.onStates = [...new Set([...first.onStates, ...n.onStates])];
    else byTarget.set(key, { ...n });
  }
  return [...byTarget.values()];
}
