/**
 * Which secrets sign a webhook delivery. With `WEBHOOK_SECRET_SCOPE=server` (the default) every delivery is
 * signed with the server's WEBHOOK_SECRET (and WEBHOOK_SECRET_PREVIOUS while it is set). With `owner`, each
 * job owner's deliveries are signed with a secret of that owner's own, derived from the server's:
 * `whsec_` + hex HMAC-SHA256(server secret, "longrun webhook secret for owner " + owner). Nothing is stored;
 * an owner reads its secrets with the `webhookSigning` query, and a receiver holding one owner's secret can
 * neither verify nor forge another owner's deliveries. Rotating the server secret rotates every owner's.
 */
import { createHmac } from 'node:crypto';

export type WebhookSecretScope = 'server' | 'owner';

/** The secrets that sign one delivery: the current one, and the one it replaced while receivers switch. */
export interface WebhookSecrets {
  secret: string;
  previousSecret?: string | undefined;
}

/** The server's signing settings (from WEBHOOK_SECRET, WEBHOOK_SECRET_PREVIOUS, WEBHOOK_SECRET_SCOPE). */
export interface WebhookSigning {
  scope: WebhookSecretScope;
  server: WebhookSecrets;
}

/** The secret that signs `owner`'s deliveries in owner scope, derived from a server secret. */
export const ownerSecret = (serverSecret: string, owner: string): string =>
  `whsec_${createHmac('sha256', serverSecret).update(`longrun webhook secret for owner ${owner}`).digest('hex')}`;

/** The secrets that sign the deliveries of `owner`'s jobs. */
export function secretsFor(s: WebhookSigning, owner: string): WebhookSecrets {
  if (s.scope === 'server') return s.server;
  const { secret, previousSecret } = s.server;
  return { secret: ownerSecret(secret, owner), previousSecret: previousSecret === undefined ? undefined : ownerSecret(previousSecret, owner) };
}
