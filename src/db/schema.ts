/**
 * The drizzle schema: the tables and the invariants PostgreSQL enforces on them (the jobs and their history
 * in job-tables.ts, re-exported here).
 * Migrations in `drizzle/` are generated from this file with `npm run db:generate`.
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, check, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { jobEvents, jobs, jobStateEnum, ts } from './job-tables.js';

export { jobEvents, jobs, jobStateEnum, NOT_DONE_WITH } from './job-tables.js';

/**
 * Copies in the dead-letter stream to delete: one that no longer stands for a dead letter (its job replayed
 * by `retryJob`, or a copy made late for a job that is not FAILED in that attempt series), written in the
 * same transaction that makes it stale, so a process that stops before NATS deleted the copy leaves it here;
 * the dead-letter recorder's sweep deletes it from the stream and then the row.
 */
export const deadLetterRemovals = pgTable('dead_letter_removals', {
  /** The copy's sequence in the dead-letter stream. */
  seq: bigint('seq', { mode: 'number' }).primaryKey(),
  createdAt: ts('created_at').notNull().defaultNow(),
});

/**
 * The transactional outbox: written in the submit's transaction, published to JetStream after commit
 * (at once, or by the relay), so a committed job always gets its message.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    jobId: uuid('job_id').notNull(),
    subject: text('subject').notNull(),
    /** `Nats-Msg-Id`: JetStream drops a second publish of it inside the duplicate window. */
    msgId: text('msg_id').notNull(),
    body: jsonb('body').notNull(),
    traceparent: text('traceparent'),
    createdAt: ts('created_at').notNull().defaultNow(),
    publishedAt: ts('published_at'),
    /** Stream sequence JetStream gave the message (a job message's, for the reconciler and dead letters). */
    streamSeq: bigint('stream_seq', { mode: 'number' }),
    /**
     * A scheduled job's entry is not published before this instant (its job's `run_at`); null: at once.
     * `publishSoon` leaves such entries to the relay loop, which publishes them once due.
     */
    notBefore: ts('not_before'),
  },
  (t) => [
    /** The relay's entries to publish at once, by id (scheduled ones are in `outbox_scheduled`, by due time). */
    index('outbox_unpublished').on(t.id).where(sql`published_at is null and not_before is null`),
    /** The relay's scheduled entries, by due time: those not due yet are never read by a pass. */
    index('outbox_scheduled').on(t.notBefore).where(sql`published_at is null and not_before is not null`),
    /** The reconciler's look-up of a waiting job's published sequence. */
    index('outbox_job').on(t.jobId),
  ],
);

/**
 * API keys (see src/auth/keys.ts): the key itself is never stored, only its SHA-256. A key starts with its
 * id, so a request's key is looked up by primary key and its hash compared in constant time.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    owner: text('owner').notNull(),
    admin: boolean('admin').notNull().default(false),
    /** Hex SHA-256 of the whole key. */
    keyHash: text('key_hash').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    /** Set once by `keys revoke`; a revoked key authenticates nothing from then on. */
    revokedAt: ts('revoked_at'),
  },
  (t) => [
    check('api_keys_hash_is_sha256', sql`${t.keyHash} ~ '^[0-9a-f]{64}$'`),
    check('api_keys_owner_not_empty', sql`length(${t.owner}) between 1 and 100`),
  ],
);

/**
 * Job types an admin paused (`pauseJobType`): workers pull none of their jobs until `resumeJobType` deletes
 * the row. Submits are still accepted; the jobs wait QUEUED.
 */
export const pausedJobTypes = pgTable('paused_job_types', {
  type: text('type').primaryKey(),
  pausedAt: ts('paused_at').notNull().defaultNow(),
  /** The owner of the admin key that paused it. */
  pausedBy: text('paused_by').notNull(),
});

/**
 * The state of each rate-limited job type's limit (`rateLimit` on its definition; statements in
 * rate-limits.ts): a row per type, made by the first worker that asks (or by an admin's override). The limit
 * itself (`max`, `perMs`) comes with each statement from the worker's definition, unless the row holds an
 * admin's override; otherwise the row keeps only the state. Starts are paid for in
 * `tat` (GCRA's theoretical arrival time: the bucket is full again then), one emission interval `perMs / max`
 * each, once the pull they were granted for has ended; until then they are `held` by that pull. A grant's
 * `period` says which of the two lease periods it was held in: a pull that never reports (its worker killed)
 * stops counting two periods later.
 */
export const rateLimits = pgTable(
  'rate_limits',
  {
    type: text('type').primaryKey(),
    tat: ts('tat').notNull().defaultNow(),
    /** Tokens granted in the current period to pulls that have not reported yet. */
    held: integer('held').notNull().default(0),
    /** Tokens granted in the period before to pulls that have not reported yet. */
    heldBefore: integer('held_before').notNull().default(0),
    period: bigint('period', { mode: 'number' }).notNull().default(0),
    periodStart: ts('period_start').notNull().defaultNow(),
    /**
     * An admin's override of the limit (`setJobTypeRateLimit`): while set, the statements use it instead of the
     * caller's definition. All four set, or none.
     */
    overrideMax: integer('override_max'),
    overridePerMs: integer('override_per_ms'),
    overrideBurst: integer('override_burst'),
    overrideSetAt: ts('override_set_at'),
  },
  (t) => [
    check('rate_limits_held_not_negative', sql`${t.held} >= 0 and ${t.heldBefore} >= 0`),
    check(
      'rate_limits_override_whole',
      sql`(${t.overrideMax} is null) = (${t.overridePerMs} is null) and (${t.overrideMax} is null) = (${t.overrideBurst} is null) and (${t.overrideMax} is null) = (${t.overrideSetAt} is null)`,
    ),
    check('rate_limits_override_positive', sql`${t.overrideMax} > 0 and ${t.overridePerMs} > 0 and ${t.overrideBurst} between 1 and ${t.overrideMax}`),
  ],
);

/**
 * Recurring jobs (`upsertSchedule`): each due schedule makes one job (`jobs/schedules.ts`), in the transaction
 * that moves its `next_run_at` to the next time its cron expression names, so one run makes one job however many
 * API processes look. Named per owner; the job's settings are null for the type's defaults at each run.
 */
export const schedules = pgTable(
  'schedules',
  {
    owner: text('owner').notNull(),
    name: text('name').notNull(),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull(),
    cron: text('cron').notNull(),
    timezone: text('timezone').notNull(),
    maxAttempts: integer('max_attempts'),
    timeoutMs: integer('timeout_ms'),
    /** Each run's job must start within this many ms of its run time (its `startBy`); null: no deadline. */
    startWithinMs: integer('start_within_ms'),
    /** Its jobs' notifications, as checked (`CheckedNotification[]`): each job gets them when it is made. */
    notify: jsonb('notify').notNull().default(sql`'[]'::jsonb`),
    paused: boolean('paused').notNull().default(false),
    /** When it next makes a job (while not paused). */
    nextRunAt: ts('next_run_at').notNull(),
    /** The run time of its last job, and that job (null until the first; the job may have been deleted since). */
    lastRunAt: ts('last_run_at'),
    lastJobId: uuid('last_job_id'),
    runs: bigint('runs', { mode: 'number' }).notNull().default(0),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.owner, t.name] }),
    /** The scheduler's pass: the due ones, by time, not paused. */
    index('schedules_due').on(t.nextRunAt).where(sql`not paused`),
  ],
);

/** Notification channels (`NotifyInput.webhook` / `.email`). */
export const NOTIFY_CHANNELS = ['WEBHOOK', 'EMAIL'] as const;
/** A delivery: waiting/retrying, accepted by the receiver, or given up on (dead-lettered). */
export const DELIVERY_STATUSES = ['PENDING', 'SENT', 'FAILED'] as const;

/**
 * What a job asked to be told about at submit (`SubmitJobInput.notify`): one row per target. The terminal
 * transition (db/transition.ts `transition()`) turns each matching row into a delivery and an outbox entry.
 */
export const jobNotifications = pgTable(
  'job_notifications',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    jobId: uuid('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    channel: text('channel', { enum: NOTIFY_CHANNELS }).notNull(),
    /** Webhook URL or email address. */
    target: text('target').notNull(),
    /** Terminal states that trigger a delivery. */
    onStates: jobStateEnum('on_states').array().notNull(),
    /** Outbox subject of its deliveries (the notifications stream, with this installation's prefix). */
    subject: text('subject').notNull(),
  },
  (t) => [index('job_notifications_job').on(t.jobId)],
);

/**
 * One notification to send: made in the same statement as the terminal transition it reports, so a crash
 * between "job finished" and "notification sent" cannot lose it. Its id is the delivery id receivers
 * dedupe on; `body` is the job as it was at that transition, so every retry sends the same bytes.
 */
export const notificationDeliveries = pgTable(
  'notification_deliveries',
  {
    id: uuid('id').primaryKey(),
    notificationId: bigint('notification_id', { mode: 'number' })
      .notNull()
      .references(() => jobNotifications.id, { onDelete: 'cascade' }),
    jobId: uuid('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    /** Attempt series of the job (a `retryJob` replay can reach a terminal state again). */
    series: integer('series').notNull(),
    /** The terminal state it reports. */
    jobState: jobStateEnum('job_state').notNull(),
    status: text('status', { enum: DELIVERY_STATUSES }).notNull().default('PENDING'),
    /** Send attempts started. */
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /**
     * When it is to be tried again: set while it waits, after a failed attempt or a turn its receiver had no
     * slot for, with no message in the stream (the re-queue pass publishes one when it is due); null otherwise.
     */
    nextAttemptAt: ts('next_attempt_at'),
    /**
     * Messages the re-queue pass has queued for it (the terminal transition's is number 0). Each message
     * carries its number, and only the latest may start an attempt: an older one redelivered is ignored.
     */
    requeues: integer('requeues').notNull().default(0),
    /**
     * Stream sequence of its latest message, once published: the reconciler checks that JetStream still has
     * it (findStaleDeliveries).
     */
    msgSeq: bigint('msg_seq', { mode: 'number' }),
    body: jsonb('body').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    /** When it was accepted (SENT) or given up on (FAILED). */
    finishedAt: ts('finished_at'),
  },
  (t) => [
    uniqueIndex('notification_deliveries_once').on(t.notificationId, t.series, t.jobState),
    index('notification_deliveries_job').on(t.jobId),
    /** The re-queue pass's due deliveries (requeueDueDeliveries); only the waiting ones are in it. */
    index('notification_deliveries_due').on(t.nextAttemptAt).where(sql`status = 'PENDING' and next_attempt_at is not null`),
    /** The reconciler's deliveries whose message should be in the stream (findStaleDeliveries). */
    index('notification_deliveries_in_stream').on(t.updatedAt).where(sql`status = 'PENDING' and next_attempt_at is null`),
    check('notification_deliveries_finished', sql`(${t.finishedAt} is not null) = (${t.status} <> 'PENDING')`),
    check('notification_deliveries_next_attempt_pending', sql`${t.nextAttemptAt} is null or ${t.status} = 'PENDING'`),
  ],
);

/** A job as read (JOB_COLUMNS); the claim token is read only by the claim's retry (transitions.ts). */
export type JobRow = Omit<typeof jobs.$inferSelect, 'claimToken' | 'idempotencyKey' | 'startBy'>;
/** A job with its idempotency key: what the submit's look-up by key reads. */
export type KeyedJobRow = JobRow & { idempotencyKey: string | null };
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type JobEventRow = typeof jobEvents.$inferSelect;
export type OutboxRow = typeof outbox.$inferSelect;
export type JobNotificationRow = typeof jobNotifications.$inferSelect;
export type NotificationDeliveryRow = typeof notificationDeliveries.$inferSelect;
