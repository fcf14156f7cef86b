/** What the job domain functions need: the clients, the names, the registered types. */
import type { Sql } from '../db/client.js';
import { ErrorCode, PublicError } from '../errors.js';
import type { HistoryAfter, HistoryRead } from '../db/history.js';
import type { InsertResult, NewJob } from '../db/jobs.js';
import type { Logger } from '../log.js';
import type { Nats } from '../messaging/connect.js';
import type { Names } from '../messaging/names.js';
import type { OutboxRelay } from '../messaging/outbox-relay.js';
import type { RereadGroups } from '../progress/reread-groups.js';
import type { NotifySettings } from '../notifications/validate.js';
import type { JobType } from './definition.js';

export interface JobDeps {
  sql: Sql;
  nats: Nats;
  names: Names;
  log: Logger;
  types: ReadonlyMap<string, JobType>;
  relay: OutboxRelay;
  /** Inserts submitted jobs, grouping concurrent submits into one commit (db/jobs.ts `createJobInserter`). */
  insertJobs: (jobs: NewJob[]) => Promise<InsertResult>;
  /**
   * Reads a job's changes after a seq for a resyncing `jobProgress` subscription, grouping concurrent reads
   * into one statement (db/history.ts `createHistoryReader`).
   */
  readHistory: (read: HistoryRead) => Promise<HistoryAfter>;
  /** Shares identical reads of resyncing `jobUpdates` subscriptions (progress/shared-reads.ts `SharedReads`). */
  shareReads: <R>(key: string, read: () => Promise<R>) => Promise<R>;
  /** Reads the rereads of `jobUpdates` subscriptions on ids together (progress/reread-groups.ts). */
  rereadGroups: RereadGroups;
  /**
   * The most payload bytes (JSON text) the submits of one GraphQL operation write together, every input of
   * every `submitJob` / `submitJobs` field: the largest request the server reads (HTTP_BODY_LIMIT_BYTES or
   * WS_MAX_MESSAGE_BYTES), which a payload written many times over (one GraphQL variable in every input, in
   * aliased fields) would otherwise multiply (submit-check.ts `PayloadBudget`).
   */
  maxOperationPayloadBytes: number;
  /** What notifications this server can send; without it, `notify` is refused. */
  notify?: NotifySettings;
}

/** Who is asking. Every query and mutation sees only the viewer's jobs, unless the viewer is an admin. */
export interface Viewer {
  owner: string;
  admin: boolean;
}

/** FORBIDDEN unless the viewer is an admin: `what` (an operation's name) needs an admin key. */
export function requireAdmin(v: Viewer, what: string): void {
  if (!v.admin) throw new PublicError(ErrorCode.FORBIDDEN, `${what} needs an admin key`);
}

/** Whether the viewer may see the job (another owner's job is reported as not found). */
export const canSee = (v: Viewer, job: { owner: string }): boolean => v.admin || job.owner === v.owner;

export const isUuid = (s: string): boolean =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
