/** Notifications as the configuration sets them up: what submit accepts, and the notifier. */
import type { Config } from '../config.js';
import type { Sql } from '../db/client.js';
import type { Logger } from '../log.js';
import type { Nats } from '../messaging/connect.js';
import type { Names } from '../messaging/names.js';
import type { WebhookPolicy } from './address-policy.js';
import { createMailer } from './email.js';
import { startNotifier, type Notifier } from './notifier.js';
import type { WebhookSigning } from './signing.js';
import type { NotifySettings } from './validate.js';

const policyOf = (c: Config): WebhookPolicy => ({ allowedHosts: c.WEBHOOK_ALLOWED_HOSTS, allowPrivate: c.WEBHOOK_ALLOW_PRIVATE });

/** Which secrets sign webhooks; null when WEBHOOK_SECRET is unset (webhooks are refused). */
const signingOf = (c: Config): WebhookSigning | null =>
  c.WEBHOOK_SECRET ? { scope: c.WEBHOOK_SECRET_SCOPE, server: { secret: c.WEBHOOK_SECRET, previousSecret: c.WEBHOOK_SECRET_PREVIOUS } } : null;

/** What `notify` may ask for on this server. */
export function notifySettings(c: Config): NotifySettings {
  return { webhooks: signingOf(c), email: Boolean(c.SMTP_URL), policy: policyOf(c) };
}

/** Starts the notifier with the configured channels, or returns null when NOTIFIER_CONCURRENCY is 0. */
export async function startConfiguredNotifier(
  c: Config,
  d: { sql: Sql; nats: Nats; names: Names; log: Logger },
): Promise<Notifier | null> {
  if (c.NOTIFIER_CONCURRENCY === 0) return null;
  const signing = signingOf(c);
  return startNotifier({
    ...d,
    concurrency: c.NOTIFIER_CONCURRENCY,
    maxAttempts: c.NOTIFY_MAX_ATTEMPTS,
    backoff: { baseMs: c.NOTIFY_BACKOFF_MS, factor: 2, maxMs: c.NOTIFY_BACKOFF_MAX_MS, jitter: 0.2 },
    webhook: signing ? { signing, timeoutMs: c.WEBHOOK_TIMEOUT_MS, policy: policyOf(c) } : null,
    mailer: c.SMTP_URL ? createMailer({ url: c.SMTP_URL, from: c.SMTP_FROM, timeoutMs: c.WEBHOOK_TIMEOUT_MS }) : null,
  });
}
