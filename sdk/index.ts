/**
 * longrun's typed SDK (TypeScript source; run it with tsx or a bundler that understands TS).
 * `import { createClient } from 'longrun/sdk'`.
 */
export { createClient, type ClientOptions, type JobEventsPage, type LongrunClient } from './client.js';
export { RESUME_OVERLAP_MS, type JobUpdate, type JobUpdatesOptions, type ReplayGap, type WatchOptions } from './subscriptions.js';
export { LongrunError, isLongrunError } from './errors.js';
export * from './generated/graphql.js';
