/**
 * longrun's typed SDK (TypeScript source; run it with tsx or a bundler that understands TS).
 * `import { createClient } from 'longrun/sdk'`; webhook receivers: `import { verifyWebhook } from 'longrun/sdk'`.
 */
export { createClient, type ClientOptions, type JobEventsPage, type LongrunClient, type ScheduleOwner } from './client.js';
export type { JobUpdate, WatchOptions } from './subscriptions.js';
export { RESUME_OVERLAP_MS, type JobUpdatesOptions, type ReplayGap } from './job-updates.js';
export { LongrunError, isLongrunError } from './errors.js';
export {
  verifyWebhook,
  WEBHOOK_HEADERS,
  WEBHOOK_TOLERANCE_SECONDS,
  type VerifyWebhookOptions,
  type WebhookBody,
  type WebhookJobState,
} from './webhooks.js';
export * from './generated/graphql.js';
