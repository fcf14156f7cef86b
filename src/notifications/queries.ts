/** Reading a job's notification deliveries for the API (the caller has already checked the job is visible). */
import { deliveriesOf } from '../db/notifications.js';
import type { JobDeps } from '../jobs/deps.js';

/** Deliveries of several jobs (one query per GraphQL request batch). */
export const notificationsOf = (deps: JobDeps, jobIds: readonly string[]) => deliveriesOf(deps.sql, jobIds);
