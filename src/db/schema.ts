/**
 * The drizzle schema: the tables and the invariants PostgreSQL enforces on them.
 * Migrations in `drizzle/` are generated from this file with `npm run db:generate`.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { JOB_STATES } from '../jobs/state.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const jobStateEnum = pgEnum('job_state', JOB_STATES);

/**
 * The jobs not done with: waiting, running, or FAILED (an operator may still replay them). The predicate of
 * the `jobs_state_updated` index, and of every query that counts on it (queueStats' counts, the types with
 * jobs left, the changes a `jobUpdates` replay reads): PostgreSQL uses a partial index only for a query whose
 * condition implies the index's.
 */
export const NOT_DONE_WITH = `state in ('QUEUED', 'RUNNING', 'RETRYING', 'FAILED')`;

export const jobs = pgTable(
  'jobs',
  {
    id: uuid('id').primaryKey(),
    owner: text('owner').notNull(),
    type: text('type').notNull(),
    state: jobStateEnum('state').notNull().default('QUEUED'),
    payload: jsonb('payload').notNull(),
    progress: real('progress').notNull().default(0),
    progressMessage: text('progress_message'),
    /** Claims in the current attempt series; the fence for every write a worker makes. */
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    timeoutMs: integer('timeout_ms').notNull(),
    result: jsonb('result'),
    error: text('error'),
    idempotencyKey: text('idempotency_key'),
    /** Seq of the job's last recorded change. */
    seq: integer('seq').notNull().default(1),
    /** Seqs up to this one may be in use by the running attempt's live progress (see db/transition.ts). */
    seqReserved: integer('seq_reserved').notNull().default(1),
    /** Attempt series: 1 at submit, +1 on each `retryJob` replay. */
    series: integer('series').notNull().default(1),
    cancelRequested: boolean('cancel_requested').notNull().default(false),
    /**
     * While RUNNING: the claim is the worker's until then; it renews it with every in-progress ack. Kept when the
     * attempt asks for a retry or is handed back (RETRYING, QUEUED again): the end of the last lease, which the
     * dead-letter recorder weighs an advisory against (dead-letter-recorder.ts). Null once finished or cancelled.
     */
    leaseUntil: ts('lease_until'),
    /**
     * The claim's own token, chosen by its worker: a worker whose claim committed but whose answer was lost
     * (its connection dropped after the commit) finds by it that the claim its retry is refused by is its own.
     */
    claimToken: uuid('claim_token'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    nextAttemptAt: ts('next_attempt_at'),
    /**
     * A scheduled job's `runAt`: it does not start before then (its outbox entry waits until then, see
     * `outbox.not_before`). Null for a job submitted to run at once.
     */
    runAt: ts('run_at'),
    /**
     * Stream sequence of the job's work-queue message, set by the claim. (A job not claimed yet has it on its
     * outbox entry, `outbox.stream_seq`: publishing does not write the job row again.)
     */
    msgSeq: bigint('msg_seq', { mode: 'number' }),
    /** When the dead-letter component recorded the job (FAILED and copied to the dead-letter stream). */
    deadLetteredAt: ts('dead_lettered_at'),
    /** Sequence of the job's copy in the dead-letter stream (64-bit, as JetStream's: it passes 2^31 in time). */
    deadLetterSeq: bigint('dead_letter_seq', { mode: 'number' }),
    /** W3C traceparent of the submit, continued by the worker. */
    traceparent: text('traceparent'),
  },
  (t) => [
    // Partial indexes where they can be: a row outside an index's predicate costs that index nothing on
    // insert and on each (non-HOT) state change.
    uniqueIndex('jobs_owner_idempotency_key').on(t.owner, t.idempotencyKey).where(sql`idempotency_key is not null`),
    index('jobs_created').on(t.createdAt.desc(), t.id.desc()),
    index('jobs_owner_created').on(t.owner, t.createdAt.desc(), t.id.desc()),
    index('jobs_dead_lettered').on(t.deadLetteredAt.desc(), t.id.desc()).where(sql`dead_lettered_at is not null`),
    /** queueStats' throughput: jobs finished in the last minute. */
    index('jobs_finished').on(t.finishedAt).where(sql`finished_at is not null`),
    /**
     * One index for the jobs that are not done with: queueStats' counts (countByType: QUEUED, RUNNING,
     * RETRYING, FAILED) and the reconciler's stale active jobs (findStaleJobs, findAbandonedJobs, by
     * updated_at). One, not two: a submit and a claim write an entry in every index the row matches.
     */
    index('jobs_state_updated')
      .on(t.state, t.updatedAt)
      .where(sql.raw(NOT_DONE_WITH)),
    check(
      'jobs_finished_at_iff_terminal',
      sql`(${t.finishedAt} is not null) = (${t.state} in ('SUCCEEDED', 'FAILED', 'CANCELLED'))`,
    ),
    check('jobs_attempts_in_range', sql`${t.attempts} >= 0 and ${t.attempts} <= ${t.maxAttempts}`),
    check('jobs_max_attempts_in_range', sql`${t.maxAttempts} between 1 and 100`),
    check('jobs_progress_in_range', sql`${t.progress} >= 0 and ${t.progress} <= 100`),
    check('jobs_seq_reserved', sql`${t.seqReserved} >= ${t.seq}`),
    check('jobs_next_attempt_only_retrying', sql`${t.nextAttemptAt} is null or ${t.state} = 'RETRYING'`),
  ],
);

/**
 * A job's history: state changes, attempt errors and progress milestones, one row per seq. The first row
 * (seq 1: QUEUED, attempt 0, at `created_at`) is not stored: read the history from the `job_history` view
 * (migration 0004), which derives it from the job row.
 *
 * No foreign key to `jobs`: every row is written by the statement that inserts or changes its job (a CTE over
 * the job rows that statement wrote), so none can be without its job. The key's check cost a fifth of a bulk
 * insert and a lock on the job row per event (docs/performance.md). Retention (db/retention.ts `deleteJobs`)
 * deletes a job's rows with the job; whoever deletes a job by hand must delete them too.
 */
export const jobEvents = pgTable(
  'job_events',
  {
    jobId: uuid('job_id').notNull(),
    seq: integer('seq').notNull(),
    /** `state` (a transition), `progress` (a milestone) or `error` (a failed attempt, with its message). */
    kind: text('kind', { enum: ['state', 'progress', 'error'] }).notNull(),
    state: jobStateEnum('state').notNull(),
    progress: real('progress').notNull(),
    message: text('message'),
    attempt: integer('attempt').notNull(),
    result: jsonb('result'),
    error: text('error'),
    at: ts('at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.jobId, t.seq] }),
    // `Job.attemptErrors`: a long job records thousands of progress rows; its few error rows are found here,
    // not by reading its whole history (5–10 ms at 20,000 rows, 0.3 ms here). Only error rows are written
    // to it.
    index('job_events_errors').on(t.jobId, t.seq).where(sql`kind = 'error'`),
  ],
);

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
export type JobRow = Omit<typeof jobs.$inferSelect, 'claimToken' | 'idempotencyKey'>;
/** A job with its idempotency key: what the submit's look-up by key reads. */
export type KeyedJobRow = JobRow & { idempotencyKey: string | null };
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type JobEventRow = typeof jobEvents.$inferSelect;
export type OutboxRow = typeof outbox.$inferSelect;
export type JobNotificationRow = typeof jobNotifications.$inferSelect;
export type NotificationDeliveryRow = typeof notificationDeliveries.$inferSelect;
