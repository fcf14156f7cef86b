/** Reading notification settings and deliveries for the API. */
import { deliveriesOf } from '../db/notifications.js';
import { ErrorCode, PublicError } from '../errors.js';
import type { JobDeps, Viewer } from '../jobs/deps.js';
import { secretsFor, type WebhookSecretScope } from './signing.js';

/** Deliveries of several jobs (one query per GraphQL request batch; the caller has checked the jobs are visible). */
export const notificationsOf = (deps: JobDeps, jobIds: readonly string[]) => deliveriesOf(deps.sql, jobIds);

/** `webhookSigning`: what signs `owner`'s webhooks (the viewer's own by default; another's for an admin only). */
export function webhookSigning(
  deps: JobDeps,
  viewer: Viewer,
  owner: string | null | undefined,
): { scope: Uppercase<WebhookSecretScope>; owner: string; secret: string | null; previousSecret: string | null } {
  const whose = owner ?? viewer.owner;
  if (whose !== viewer.owner && !viewer.admin) throw new PublicError(ErrorCode.FORBIDDEN, "another owner's webhook secrets need an admin key");
  const signing = deps.notify?.webhooks;
  if (!signing || signing.scope === 'server') return { scope: 'SERVER', owner: whose, secret: null, previousSecret: null };
  const { secret, previousSecret } = secretsFor(signing, whose);
  return { scope: 'OWNER', owner: whose, secret, previousSecret: previousSecret ?? null };
}
