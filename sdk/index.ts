/**
 * longrun's typed SDK (TypeScript source; run it with tsx or a bundler that understands TS).
 * `import { createClient } from 'longrun/sdk'`.
 */
export { createClient, RESUME_OVERLAP_MS, type ClientOptions, type JobUpdate, type JobUpdatesOptions, type LongrunClient, type WatchOptions } from './client.js';
export { LongrunError, isLongrunError } from './errors.js';
export * from './generated/graphql.js';
