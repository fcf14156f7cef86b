/**
 * The jobs and their history (`job_events`), with the job state enum and the invariants PostgreSQL enforces
 * on them: part of the drizzle schema, re-exported by schema.ts (which drizzle-kit reads).
 */
import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, jsonb, pgEnum, pgTable, primaryKey, real, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { JOB_STATES } from '../jobs/state.js';

/** A timestamptz column, read as a Date: every table's timestamps. */
export const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

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
     * A job's `startBy`: no attempt starts after this instant (by PostgreSQL's clock); a job still waiting then
     * is FAILED `expired: …` (db/expiry.ts). Null: it waits as long as it takes. Not in JOB_COLUMNS (see there):
     * read on its own (`startByOf`), and by the claim's condition.
     */
    startBy: ts('start_by'),
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
    /** The expiry pass's due jobs: only waiting jobs with a `startBy` (few, if any) are in it. */
    index('jobs_start_by')
      .on(t.startBy)
      .where(sql`start_by is not null and state in ('QUEUED', 'RETRYING')`),
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
