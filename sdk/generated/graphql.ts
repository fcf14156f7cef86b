/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/**
 * Which jobs `cancelJobs` cancels: either `ids`, or a filter (`types`, `states`, `submittedBefore`; every field
 * given narrows it, none: every job of the viewer's that is not finished) with `limit`. Not both.
 */
export type CancelJobsInput = {
  /**
   * These jobs (1..1,000; a repeated id counts once). One that cannot be cancelled (no such job, finished) is
   * listed in `skipped`; the others are cancelled. Not with the filter's fields or `limit`.
   */
  ids?: Array<string | number> | null | undefined;
  /** Cancel at most this many jobs in this call, those submitted first (1..1,000, default 1,000); `hasMore` says whether more match. */
  limit?: number | null | undefined;
  /** Only jobs in these states: some of QUEUED, RETRYING, RUNNING (the default: all three; another is refused with OUT_OF_RANGE). */
  states?: Array<JobState> | null | undefined;
  /**
   * Only jobs submitted before this instant, and at most the server's time at this call (the default): the bound
   * used is answered in the payload's `submittedBefore`; pass it to the next page's call, so that jobs submitted
   * since are left alone.
   */
  submittedBefore?: string | null | undefined;
  /** Only jobs of these types (any name: a type this server no longer has included). */
  types?: Array<string> | null | undefined;
};

/** Which jobs `jobs` lists. Every field narrows the list; omitted fields do not filter. */
export type JobFilter = {
  /** Only jobs created at or after this instant. */
  createdAfter?: string | null | undefined;
  /** Only jobs created before this instant. */
  createdBefore?: string | null | undefined;
  /**
   * Only these jobs (at most 100 ids): the states of a batch you submitted, in one call. An id that is no job's,
   * or another owner's, matches nothing; each job is listed once.
   */
  ids?: Array<string | number> | null | undefined;
  /** Only jobs in one of these states. */
  states?: Array<JobState> | null | undefined;
  /** Only jobs of one of these types. */
  types?: Array<string> | null | undefined;
};

/**
 * The lifecycle of a job. QUEUED → RUNNING → SUCCEEDED, with RETRYING between failed attempts;
 * FAILED, SUCCEEDED and CANCELLED are terminal.
 */
export type JobState =
  /** Cancelled by a user before it finished. */
  | 'CANCELLED'
  /** No more attempts: a permanent error or the attempts ran out. The job is in the dead-letter queue. */
  | 'FAILED'
  /** Accepted and waiting for a worker (a scheduled job: for its `runAt` first). */
  | 'QUEUED'
  /** An attempt failed; another attempt is scheduled at `nextAttemptAt`. */
  | 'RETRYING'
  /** A worker is running an attempt. */
  | 'RUNNING'
  /** The handler finished; `result` holds what it returned. */
  | 'SUCCEEDED';

/** Which live updates `jobUpdates` sends. Fields combine with AND; a list matches any of its values. */
export type JobUpdatesFilter = {
  /** Only updates of these jobs (at most 100). */
  ids?: Array<string | number> | null | undefined;
  /** Only updates into these states. */
  states?: Array<JobState> | null | undefined;
  /**
   * Only updates of jobs of these types (at most 20): types this server has, and a type removed or renamed since
   * while jobs of it are queued, running, retrying or failed (those queueStats counts); any other is refused.
   */
  types?: Array<string> | null | undefined;
};

/** How a notification is sent. */
export type NotificationChannel =
  /** An email sent over the server's SMTP_URL. */
  | 'EMAIL'
  /** An HTTP POST of a signed JSON body to the webhook URL. */
  | 'WEBHOOK';

/** A notification to send when the job reaches one of the `on` states: give exactly one of `webhook` or `email`. */
export type NotifyInput = {
  /** An email address (sent over the server's SMTP_URL). */
  email?: string | null | undefined;
  /** Terminal states that trigger it. Default: SUCCEEDED and FAILED. */
  on?: Array<JobState> | null | undefined;
  /**
   * An http(s) URL to POST a JSON body to, signed with HMAC-SHA256 in the `Longrun-Signature` header (and, with
   * the time of each attempt, in `Longrun-Signature-V2`) and carrying a `Longrun-Delivery-Id` that stays the same
   * across retries. Loopback, private and link-local addresses are
   * refused unless the server allows them.
   */
  webhook?: string | null | undefined;
};

/** Which finished jobs `purgeJobs` deletes. */
export type PurgeJobsInput = {
  /** Count the jobs that would be deleted (all of them: `limit` does not apply); delete nothing. */
  dryRun?: boolean | null | undefined;
  /** Delete at most this many jobs in this call (1..10,000, default 10,000); `hasMore` says whether more match. */
  limit?: number | null | undefined;
  /** Only jobs that finished at least this many seconds ago (0: every finished job). */
  olderThanSeconds: number;
  /** Only jobs in these states (SUCCEEDED, FAILED, CANCELLED; all three when omitted). Others, and an empty list, are refused. */
  states?: Array<JobState> | null | undefined;
};

/** A rate limit an admin sets at run time (`setJobTypeRateLimit`), in the ranges a type's definition has. */
export type RateLimitInput = {
  /** The most that start at once after an idle spell: 1..max; default max. */
  burst?: number | null | undefined;
  /** Starts per `perMs`: 1..100000. */
  max: number;
  /** The period in milliseconds: 1..86400000 (a day). */
  perMs: number;
};

/**
 * Which FAILED jobs `retryJobs` replays: either `ids`, or a filter (`types`, `failedAfter`, `failedBefore`,
 * `onlyDeadLettered`; every field given narrows it, none: every FAILED job the viewer sees) with `limit`. Not both.
 */
export type RetryJobsInput = {
  /** Only jobs that failed at or after this instant (their `finishedAt`). */
  failedAfter?: string | null | undefined;
  /**
   * Only jobs that failed before this instant, and at most the server's time at this call (the default): the
   * bound used is answered in the payload's `failedBefore`; pass it to the next page's call, so that a job
   * replayed by this call and failed again since is not replayed again.
   */
  failedBefore?: string | null | undefined;
  /**
   * These jobs (1..1,000; a repeated id counts once). One that cannot be replayed (no such job, not FAILED, a type
   * this server no longer has) is listed in `skipped`; the others are replayed. Not with the filter's fields or `limit`.
   */
  ids?: Array<string | number> | null | undefined;
  /** Replay at most this many jobs in this call, the ones that failed first (1..1,000, default 1,000); `hasMore` says whether more match. */
  limit?: number | null | undefined;
  /** Only jobs whose copy is recorded in the dead-letter stream (those `deadLetters` lists). */
  onlyDeadLettered?: boolean | null | undefined;
  /**
   * Per-attempt timeout of the replayed attempt series, in milliseconds: 100..the current timeout of each
   * replayed job's type (else OUT_OF_RANGE and nothing is replayed). Default: each job keeps its own.
   */
  timeoutMs?: number | null | undefined;
  /** Only jobs of these types (types this server has; another is refused with UNKNOWN_JOB_TYPE). */
  types?: Array<string> | null | undefined;
};

/** What `upsertSchedule` stores. */
export type ScheduleInput = {
  /** When it runs (see `Schedule.cron`); a cron that never comes (30 February) is refused. */
  cron: string;
  /** Attempts each run's job gets, as `SubmitJobInput.maxAttempts`. Default: the type's at each run. */
  maxAttempts?: number | null | undefined;
  /** Its name (1..200 characters): an existing schedule of yours with this name is replaced. */
  name: string;
  /** Notifications to send when each run's job finishes (at most 10), checked as `SubmitJobInput.notify` is. */
  notify?: Array<NotifyInput> | null | undefined;
  /** Store it paused (default false). */
  paused?: boolean | null | undefined;
  /** The payload, checked against the type's payload schema now, as a submit's is. Default `{}`. */
  payload?: unknown;
  /**
   * A start window, ms (see `Schedule.startWithinMs`): 1000..2147483647, about 24.8 days (OUT_OF_RANGE otherwise).
   * `runSchedule` counts it from now. Default: none.
   */
  startWithinMs?: number | null | undefined;
  /** Each attempt's timeout, as `SubmitJobInput.timeoutMs`. Default: the type's at each run. */
  timeoutMs?: number | null | undefined;
  /** The IANA time zone the cron is read in. Default `UTC`. */
  timezone?: string | null | undefined;
  /** The job type each run submits; see `jobTypes`. */
  type: string;
};

/** What to submit. */
export type SubmitJobInput = {
  /**
   * Submitting the same key again with the same type returns the first job instead of creating another (per
   * owner); with another type it is refused with IDEMPOTENCY_KEY_REUSED.
   */
  idempotencyKey?: string | null | undefined;
  /** Attempts allowed, 1 up to the type's `maxAttempts` (see `jobTypes`; at most 100). Default: the type's default. */
  maxAttempts?: number | null | undefined;
  /** Notifications to send when the job finishes (at most 10). */
  notify?: Array<NotifyInput> | null | undefined;
  /** The job's input, checked against the type's payload schema. Default `{}`. */
  payload?: unknown;
  /**
   * Schedules the job: it stays QUEUED and does not start before this instant (by PostgreSQL's clock; it starts
   * within about `RELAY_INTERVAL_MS` after it). At most 366 days ahead (OUT_OF_RANGE). Absent, or not in the
   * future: the job runs as soon as a worker is free, as without it. A `retryJob` of the job runs it at once.
   * `rescheduleJob` moves it.
   */
  runAt?: string | null | undefined;
  /**
   * A deadline to start by: no attempt (the first or a retry) starts after this instant, by PostgreSQL's clock.
   * A job still QUEUED or RETRYING then (no worker for its type, its type paused, a backlog, a backoff past it)
   * ends FAILED with error `expired: not started by <startBy>`, within about `RELAY_INTERVAL_MS` (it is not
   * dead-lettered; its FAILED notifications are sent as for any failure). Must be in the future, at most 366
   * days ahead, and after `runAt` when both are given (OUT_OF_RANGE on `startBy` otherwise). An attempt that
   * started before it runs to its end, and a `retryJob` replay clears it. `rescheduleJob` does not move a job
   * past it.
   */
  startBy?: string | null | undefined;
  /** Per-attempt timeout in milliseconds, 100..the type's timeout. Default: the type's timeout. */
  timeoutMs?: number | null | undefined;
  /** A registered job type; see `jobTypes`. */
  type: string;
};

/** How webhooks are signed (`WEBHOOK_SECRET_SCOPE`). */
export type WebhookSecretScope =
  /**
   * Each owner's webhooks are signed with a secret of that owner's own (`webhookSigning`), derived from the
   * server's: one owner's receiver can neither verify nor forge another owner's webhooks.
   */
  | 'OWNER'
  /** Every webhook is signed with the server's `WEBHOOK_SECRET`, which its operator hands to receivers. */
  | 'SERVER';

export type JobFieldsFragment = { id: string, type: string, state: JobState, seq: number, payload: unknown, progress: number, progressMessage: string | null, attempts: number, maxAttempts: number, result: unknown, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, nextAttemptAt: string | null, runAt: string | null };

export type JobEventFieldsFragment = { seq: number, state: JobState, progress: number, message: string | null, attempt: number, at: string };

export type JobPageFragment = { totalCount: number, pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null }, edges: Array<{ cursor: string, node: { id: string, type: string, state: JobState, seq: number, payload: unknown, progress: number, progressMessage: string | null, attempts: number, maxAttempts: number, result: unknown, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, nextAttemptAt: string | null, runAt: string | null } }> };

export type JobUpdateFieldsFragment = { jobId: string, type: string, seq: number, state: JobState, progress: number, message: string | null, attempt: number, at: string, result: unknown, error: string | null };

export type UserErrorFieldsFragment = { code: string, field: Array<string> | null, message: string };

export type JobTypePayloadFieldsFragment = { jobType: { name: string, paused: boolean, pausedAt: string | null, rateLimit: { max: number, perMs: number, burst: number, overridden: boolean } | null } | null, userErrors: Array<{ code: string, field: Array<string> | null, message: string }> };

export type ScheduleFieldsFragment = { name: string, owner: string, type: string, payload: unknown, cron: string, timezone: string, maxAttempts: number | null, timeoutMs: number | null, startWithinMs: number | null, paused: boolean, nextRunAt: string | null, lastRunAt: string | null, runs: number, createdAt: string, updatedAt: string, lastJob: { id: string, state: JobState } | null, notify: Array<{ channel: NotificationChannel, target: string, on: Array<JobState> }> };

export type SubmitJobMutationVariables = Exact<{
  input: SubmitJobInput;
}>;


export type SubmitJobMutation = { submitJob: { job: { id: string, type: string, state: JobState, seq: number, payload: unknown, progress: number, progressMessage: string | null, attempts: number, maxAttempts: number, result: unknown, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, nextAttemptAt: string | null, runAt: string | null } | null, userErrors: Array<{ code: string, field: Array<string> | null, message: string }> } };

export type SubmitJobsMutationVariables = Exact<{
  inputs: Array<SubmitJobInput> | SubmitJobInput;
}>;


export type SubmitJobsMutation = { submitJobs: { jobs: Array<{ id: string, type: string, state: JobState, seq: number, payload: unknown, progress: number, progressMessage: string | null, attempts: number, maxAttempts: number, result: unknown, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, nextAttemptAt: string | null, runAt: string | null }> | null, userErrors: Array<{ code: string, field: Array<string> | null, message: string }> } };

export type CancelJobMutationVariables = Exact<{
  id: string | number;
}>;


export type CancelJobMutation = { cancelJob: { job: { id: string, type: string, state: JobState, seq: number, payload: unknown, progress: number, progressMessage: string | null, attempts: number, maxAttempts: number, result: unknown, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, nextAttemptAt: string | null, runAt: string | null } | null, userErrors: Array<{ code: string, field: Array<string> | null, message: string }> } };

export type RescheduleJobMutationVariables = Exact<{
  id: string | number;
  runAt?: string | null | undefined;
}>;


export type RescheduleJobMutation = { rescheduleJob: { job: { id: string, type: string, state: JobState, seq: number, payload: unknown, progress: number, progressMessage: string | null, attempts: number, maxAttempts: number, result: unknown, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, nextAttemptAt: string | null, runAt: string | null } | null, userErrors: Array<{ code: string, field: Array<string> | null, message: string }> } };

export type RetryJobMutationVariables = Exact<{
  id: string | number;
  timeoutMs?: number | null | undefined;
}>;


export type RetryJobMutation = { retryJob: { job: { id: string, type: string, state: JobState, seq: number, payload: unknown, progress: number, progressMessage: string | null, attempts: number, maxAttempts: number, result: unknown, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, nextAttemptAt: string | null, runAt: string | null } | null, userErrors: Array<{ code: string, field: Array<string> | null, message: string }> } };

export type PurgeJobsMutationVariables = Exact<{
  input: PurgeJobsInput;
}>;


export type PurgeJobsMutation = { purgeJobs: { purged: number, deadLetterCopiesRemoved: number, hasMore: boolean, userErrors: Array<{ code: string, field: Array<string> | null, message: string }> } };

export type RetryJobsMutationVariables = Exact<{
  input: RetryJobsInput;
}>;


export type RetryJobsMutation = { retryJobs: { retried: number, hasMore: boolean, failedBefore: string | null, jobs: Array<{ id: string, type: string, state: JobState, seq: number, payload: unknown, progress: number, progressMessage: string | null, attempts: number, maxAttempts: number, result: unknown, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, nextAttemptAt: string | null, runAt: string | null }>, skipped: Array<{ id: string, code: string, message: string }>, userErrors: Array<{ code: string, field: Array<string> | null, message: string }> } };

export type CancelJobsMutationVariables = Exact<{
  input: CancelJobsInput;
}>;


export type CancelJobsMutation = { cancelJobs: { cancelled: number, cancelRequested: number, hasMore: boolean, submittedBefore: string | null, jobs: Array<{ id: string, type: string, state: JobState, seq: number, payload: unknown, progress: number, progressMessage: string | null, attempts: number, maxAttempts: number, result: unknown, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, nextAttemptAt: string | null, runAt: string | null }>, skipped: Array<{ id: string, code: string, message: string }>, userErrors: Array<{ code: string, field: Array<string> | null, message: string }> } };

export type PauseJobTypeMutationVariables = Exact<{
  type: string;
}>;


export type PauseJobTypeMutation = { pauseJobType: { jobType: { name: string, paused: boolean, pausedAt: string | null, rateLimit: { max: number, perMs: number, burst: number, overridden: boolean } | null } | null, userErrors: Array<{ code: string, field: Array<string> | null, message: string }> } };

export type ResumeJobTypeMutationVariables = Exact<{
  type: string;
}>;


export type ResumeJobTypeMutation = { resumeJobType: { jobType: { name: string, paused: boolean, pausedAt: string | null, rateLimit: { max: number, perMs: number, burst: number, overridden: boolean } | null } | null, userErrors: Array<{ code: string, field: Array<string> | null, message: string }> } };

export type SetJobTypeRateLimitMutationVariables = Exact<{
  type: string;
  rateLimit?: RateLimitInput | null | undefined;
}>;


export type SetJobTypeRateLimitMutation = { setJobTypeRateLimit: { jobType: { name: string, paused: boolean, pausedAt: string | null, rateLimit: { max: number, perMs: number, burst: number, overridden: boolean } | null } | null, userErrors: Array<{ code: string, field: Array<string> | null, message: string }> } };

export type UpsertScheduleMutationVariables = Exact<{
  input: ScheduleInput;
}>;


export type UpsertScheduleMutation = { upsertSchedule: { created: boolean, schedule: { name: string, owner: string, type: string, payload: unknown, cron: string, timezone: string, maxAttempts: number | null, timeoutMs: number | null, startWithinMs: number | null, paused: boolean, nextRunAt: string | null, lastRunAt: string | null, runs: number, createdAt: string, updatedAt: string, lastJob: { id: string, state: JobState } | null, notify: Array<{ channel: NotificationChannel, target: string, on: Array<JobState> }> } | null, userErrors: Array<{ code: string, field: Array<string> | null, message: string }> } };

export type DeleteScheduleMutationVariables = Exact<{
  name: string;
  owner?: string | null | undefined;
}>;


export type DeleteScheduleMutation = { deleteSchedule: { schedule: { name: string, owner: string, type: string, payload: unknown, cron: string, timezone: string, maxAttempts: number | null, timeoutMs: number | null, startWithinMs: number | null, paused: boolean, nextRunAt: string | null, lastRunAt: string | null, runs: number, createdAt: string, updatedAt: string, lastJob: { id: string, state: JobState } | null, notify: Array<{ channel: NotificationChannel, target: string, on: Array<JobState> }> } | null, userErrors: Array<{ code: string, field: Array<string> | null, message: string }> } };

export type PauseScheduleMutationVariables = Exact<{
  name: string;
  owner?: string | null | undefined;
}>;


export type PauseScheduleMutation = { pauseSchedule: { schedule: { name: string, owner: string, type: string, payload: unknown, cron: string, timezone: string, maxAttempts: number | null, timeoutMs: number | null, startWithinMs: number | null, paused: boolean, nextRunAt: string | null, lastRunAt: string | null, runs: number, createdAt: string, updatedAt: string, lastJob: { id: string, state: JobState } | null, notify: Array<{ channel: NotificationChannel, target: string, on: Array<JobState> }> } | null, userErrors: Array<{ code: string, field: Array<string> | null, message: string }> } };

export type ResumeScheduleMutationVariables = Exact<{
  name: string;
  owner?: string | null | undefined;
}>;


export type ResumeScheduleMutation = { resumeSchedule: { schedule: { name: string, owner: string, type: string, payload: unknown, cron: string, timezone: string, maxAttempts: number | null, timeoutMs: number | null, startWithinMs: number | null, paused: boolean, nextRunAt: string | null, lastRunAt: string | null, runs: number, createdAt: string, updatedAt: string, lastJob: { id: string, state: JobState } | null, notify: Array<{ channel: NotificationChannel, target: string, on: Array<JobState> }> } | null, userErrors: Array<{ code: string, field: Array<string> | null, message: string }> } };

export type RunScheduleMutationVariables = Exact<{
  name: string;
  owner?: string | null | undefined;
}>;


export type RunScheduleMutation = { runSchedule: { job: { id: string, type: string, state: JobState, seq: number, payload: unknown, progress: number, progressMessage: string | null, attempts: number, maxAttempts: number, result: unknown, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, nextAttemptAt: string | null, runAt: string | null } | null, schedule: { name: string, owner: string, type: string, payload: unknown, cron: string, timezone: string, maxAttempts: number | null, timeoutMs: number | null, startWithinMs: number | null, paused: boolean, nextRunAt: string | null, lastRunAt: string | null, runs: number, createdAt: string, updatedAt: string, lastJob: { id: string, state: JobState } | null, notify: Array<{ channel: NotificationChannel, target: string, on: Array<JobState> }> } | null, userErrors: Array<{ code: string, field: Array<string> | null, message: string }> } };

export type JobQueryVariables = Exact<{
  id: string | number;
}>;


export type JobQuery = { job: { startBy: string | null, id: string, type: string, state: JobState, seq: number, payload: unknown, progress: number, progressMessage: string | null, attempts: number, maxAttempts: number, result: unknown, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, nextAttemptAt: string | null, runAt: string | null, events: Array<{ seq: number, state: JobState, progress: number, message: string | null, attempt: number, at: string }> } | null };

export type JobEventsQueryVariables = Exact<{
  id: string | number;
  after?: number | null | undefined;
  first?: number | null | undefined;
  last?: number | null | undefined;
}>;


export type JobEventsQuery = { job: { id: string, events: Array<{ seq: number, state: JobState, progress: number, message: string | null, attempt: number, at: string }> } | null };

export type JobsQueryVariables = Exact<{
  filter?: JobFilter | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
}>;


export type JobsQuery = { jobs: { totalCount: number, pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null }, edges: Array<{ cursor: string, node: { id: string, type: string, state: JobState, seq: number, payload: unknown, progress: number, progressMessage: string | null, attempts: number, maxAttempts: number, result: unknown, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, nextAttemptAt: string | null, runAt: string | null } }> } };

export type DeadLettersQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  type?: string | null | undefined;
}>;


export type DeadLettersQuery = { deadLetters: { totalCount: number, pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null }, edges: Array<{ cursor: string, node: { id: string, type: string, state: JobState, seq: number, payload: unknown, progress: number, progressMessage: string | null, attempts: number, maxAttempts: number, result: unknown, error: string | null, createdAt: string, startedAt: string | null, finishedAt: string | null, nextAttemptAt: string | null, runAt: string | null } }> } };

export type QueueStatsQueryVariables = Exact<{ [key: string]: never; }>;


export type QueueStatsQuery = { queueStats: Array<{ type: string, queued: number, scheduled: number, running: number, retrying: number, failed: number, deadLetters: number, throughputLastMinute: number, oldestQueuedAgeSeconds: number | null, paused: boolean, rateLimit: { max: number, perMs: number, burst: number, overridden: boolean } | null }> };

export type JobTypesQueryVariables = Exact<{ [key: string]: never; }>;


export type JobTypesQuery = { jobTypes: Array<{ name: string, description: string, defaultMaxAttempts: number, maxAttempts: number, timeoutMs: number, payloadSchema: unknown, paused: boolean, pausedAt: string | null, rateLimit: { max: number, perMs: number, burst: number, overridden: boolean } | null }> };

export type WebhookSigningQueryVariables = Exact<{
  owner?: string | null | undefined;
}>;


export type WebhookSigningQuery = { webhookSigning: { scope: WebhookSecretScope, owner: string, secret: string | null, previousSecret: string | null } };

export type SchedulesQueryVariables = Exact<{
  owner?: string | null | undefined;
}>;


export type SchedulesQuery = { schedules: Array<{ name: string, owner: string, type: string, payload: unknown, cron: string, timezone: string, maxAttempts: number | null, timeoutMs: number | null, startWithinMs: number | null, paused: boolean, nextRunAt: string | null, lastRunAt: string | null, runs: number, createdAt: string, updatedAt: string, lastJob: { id: string, state: JobState } | null, notify: Array<{ channel: NotificationChannel, target: string, on: Array<JobState> }> }> };

export type JobProgressSubscriptionVariables = Exact<{
  id: string | number;
  after?: number | null | undefined;
}>;


export type JobProgressSubscription = { jobProgress: { jobId: string, type: string, seq: number, state: JobState, progress: number, message: string | null, attempt: number, at: string, result: unknown, error: string | null } };

export type JobUpdatesSubscriptionVariables = Exact<{
  filter?: JobUpdatesFilter | null | undefined;
  since?: string | null | undefined;
  lastSeenAt?: string | null | undefined;
}>;


export type JobUpdatesSubscription = { jobUpdates: { jobId: string, type: string, seq: number, state: JobState, progress: number, message: string | null, attempt: number, at: string, result: unknown, error: string | null } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const JobEventFieldsFragmentDoc = new TypedDocumentString(`
    fragment JobEventFields on JobEvent {
  seq
  state
  progress
  message
  attempt
  at
}
    `, {"fragmentName":"JobEventFields"}) as unknown as TypedDocumentString<JobEventFieldsFragment, unknown>;
export const JobFieldsFragmentDoc = new TypedDocumentString(`
    fragment JobFields on Job {
  id
  type
  state
  seq
  payload
  progress
  progressMessage
  attempts
  maxAttempts
  result
  error
  createdAt
  startedAt
  finishedAt
  nextAttemptAt
  runAt
}
    `, {"fragmentName":"JobFields"}) as unknown as TypedDocumentString<JobFieldsFragment, unknown>;
export const JobPageFragmentDoc = new TypedDocumentString(`
    fragment JobPage on JobConnection {
  totalCount
  pageInfo {
    hasNextPage
    hasPreviousPage
    startCursor
    endCursor
  }
  edges {
    cursor
    node {
      ...JobFields
    }
  }
}
    fragment JobFields on Job {
  id
  type
  state
  seq
  payload
  progress
  progressMessage
  attempts
  maxAttempts
  result
  error
  createdAt
  startedAt
  finishedAt
  nextAttemptAt
  runAt
}`, {"fragmentName":"JobPage"}) as unknown as TypedDocumentString<JobPageFragment, unknown>;
export const JobUpdateFieldsFragmentDoc = new TypedDocumentString(`
    fragment JobUpdateFields on JobUpdate {
  jobId
  type
  seq
  state
  progress
  message
  attempt
  at
  result
  error
}
    `, {"fragmentName":"JobUpdateFields"}) as unknown as TypedDocumentString<JobUpdateFieldsFragment, unknown>;
export const UserErrorFieldsFragmentDoc = new TypedDocumentString(`
    fragment UserErrorFields on UserError {
  code
  field
  message
}
    `, {"fragmentName":"UserErrorFields"}) as unknown as TypedDocumentString<UserErrorFieldsFragment, unknown>;
export const JobTypePayloadFieldsFragmentDoc = new TypedDocumentString(`
    fragment JobTypePayloadFields on JobTypePayload {
  jobType {
    name
    paused
    pausedAt
    rateLimit {
      max
      perMs
      burst
      overridden
    }
  }
  userErrors {
    ...UserErrorFields
  }
}
    fragment UserErrorFields on UserError {
  code
  field
  message
}`, {"fragmentName":"JobTypePayloadFields"}) as unknown as TypedDocumentString<JobTypePayloadFieldsFragment, unknown>;
export const ScheduleFieldsFragmentDoc = new TypedDocumentString(`
    fragment ScheduleFields on Schedule {
  name
  owner
  type
  payload
  cron
  timezone
  maxAttempts
  timeoutMs
  startWithinMs
  paused
  nextRunAt
  lastRunAt
  lastJob {
    id
    state
  }
  runs
  notify {
    channel
    target
    on
  }
  createdAt
  updatedAt
}
    `, {"fragmentName":"ScheduleFields"}) as unknown as TypedDocumentString<ScheduleFieldsFragment, unknown>;
export const SubmitJobDocument = new TypedDocumentString(`
    mutation SubmitJob($input: SubmitJobInput!) {
  submitJob(input: $input) {
    job {
      ...JobFields
    }
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment JobFields on Job {
  id
  type
  state
  seq
  payload
  progress
  progressMessage
  attempts
  maxAttempts
  result
  error
  createdAt
  startedAt
  finishedAt
  nextAttemptAt
  runAt
}
fragment UserErrorFields on UserError {
  code
  field
  message
}`) as unknown as TypedDocumentString<SubmitJobMutation, SubmitJobMutationVariables>;
export const SubmitJobsDocument = new TypedDocumentString(`
    mutation SubmitJobs($inputs: [SubmitJobInput!]!) {
  submitJobs(inputs: $inputs) {
    jobs {
      ...JobFields
    }
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment JobFields on Job {
  id
  type
  state
  seq
  payload
  progress
  progressMessage
  attempts
  maxAttempts
  result
  error
  createdAt
  startedAt
  finishedAt
  nextAttemptAt
  runAt
}
fragment UserErrorFields on UserError {
  code
  field
  message
}`) as unknown as TypedDocumentString<SubmitJobsMutation, SubmitJobsMutationVariables>;
export const CancelJobDocument = new TypedDocumentString(`
    mutation CancelJob($id: ID!) {
  cancelJob(id: $id) {
    job {
      ...JobFields
    }
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment JobFields on Job {
  id
  type
  state
  seq
  payload
  progress
  progressMessage
  attempts
  maxAttempts
  result
  error
  createdAt
  startedAt
  finishedAt
  nextAttemptAt
  runAt
}
fragment UserErrorFields on UserError {
  code
  field
  message
}`) as unknown as TypedDocumentString<CancelJobMutation, CancelJobMutationVariables>;
export const RescheduleJobDocument = new TypedDocumentString(`
    mutation RescheduleJob($id: ID!, $runAt: DateTime) {
  rescheduleJob(id: $id, runAt: $runAt) {
    job {
      ...JobFields
    }
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment JobFields on Job {
  id
  type
  state
  seq
  payload
  progress
  progressMessage
  attempts
  maxAttempts
  result
  error
  createdAt
  startedAt
  finishedAt
  nextAttemptAt
  runAt
}
fragment UserErrorFields on UserError {
  code
  field
  message
}`) as unknown as TypedDocumentString<RescheduleJobMutation, RescheduleJobMutationVariables>;
export const RetryJobDocument = new TypedDocumentString(`
    mutation RetryJob($id: ID!, $timeoutMs: Int) {
  retryJob(id: $id, timeoutMs: $timeoutMs) {
    job {
      ...JobFields
    }
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment JobFields on Job {
  id
  type
  state
  seq
  payload
  progress
  progressMessage
  attempts
  maxAttempts
  result
  error
  createdAt
  startedAt
  finishedAt
  nextAttemptAt
  runAt
}
fragment UserErrorFields on UserError {
  code
  field
  message
}`) as unknown as TypedDocumentString<RetryJobMutation, RetryJobMutationVariables>;
export const PurgeJobsDocument = new TypedDocumentString(`
    mutation PurgeJobs($input: PurgeJobsInput!) {
  purgeJobs(input: $input) {
    purged
    deadLetterCopiesRemoved
    hasMore
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment UserErrorFields on UserError {
  code
  field
  message
}`) as unknown as TypedDocumentString<PurgeJobsMutation, PurgeJobsMutationVariables>;
export const RetryJobsDocument = new TypedDocumentString(`
    mutation RetryJobs($input: RetryJobsInput!) {
  retryJobs(input: $input) {
    retried
    jobs {
      ...JobFields
    }
    hasMore
    failedBefore
    skipped {
      id
      code
      message
    }
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment JobFields on Job {
  id
  type
  state
  seq
  payload
  progress
  progressMessage
  attempts
  maxAttempts
  result
  error
  createdAt
  startedAt
  finishedAt
  nextAttemptAt
  runAt
}
fragment UserErrorFields on UserError {
  code
  field
  message
}`) as unknown as TypedDocumentString<RetryJobsMutation, RetryJobsMutationVariables>;
export const CancelJobsDocument = new TypedDocumentString(`
    mutation CancelJobs($input: CancelJobsInput!) {
  cancelJobs(input: $input) {
    cancelled
    cancelRequested
    jobs {
      ...JobFields
    }
    hasMore
    submittedBefore
    skipped {
      id
      code
      message
    }
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment JobFields on Job {
  id
  type
  state
  seq
  payload
  progress
  progressMessage
  attempts
  maxAttempts
  result
  error
  createdAt
  startedAt
  finishedAt
  nextAttemptAt
  runAt
}
fragment UserErrorFields on UserError {
  code
  field
  message
}`) as unknown as TypedDocumentString<CancelJobsMutation, CancelJobsMutationVariables>;
export const PauseJobTypeDocument = new TypedDocumentString(`
    mutation PauseJobType($type: String!) {
  pauseJobType(type: $type) {
    ...JobTypePayloadFields
  }
}
    fragment UserErrorFields on UserError {
  code
  field
  message
}
fragment JobTypePayloadFields on JobTypePayload {
  jobType {
    name
    paused
    pausedAt
    rateLimit {
      max
      perMs
      burst
      overridden
    }
  }
  userErrors {
    ...UserErrorFields
  }
}`) as unknown as TypedDocumentString<PauseJobTypeMutation, PauseJobTypeMutationVariables>;
export const ResumeJobTypeDocument = new TypedDocumentString(`
    mutation ResumeJobType($type: String!) {
  resumeJobType(type: $type) {
    ...JobTypePayloadFields
  }
}
    fragment UserErrorFields on UserError {
  code
  field
  message
}
fragment JobTypePayloadFields on JobTypePayload {
  jobType {
    name
    paused
    pausedAt
    rateLimit {
      max
      perMs
      burst
      overridden
    }
  }
  userErrors {
    ...UserErrorFields
  }
}`) as unknown as TypedDocumentString<ResumeJobTypeMutation, ResumeJobTypeMutationVariables>;
export const SetJobTypeRateLimitDocument = new TypedDocumentString(`
    mutation SetJobTypeRateLimit($type: String!, $rateLimit: RateLimitInput) {
  setJobTypeRateLimit(type: $type, rateLimit: $rateLimit) {
    ...JobTypePayloadFields
  }
}
    fragment UserErrorFields on UserError {
  code
  field
  message
}
fragment JobTypePayloadFields on JobTypePayload {
  jobType {
    name
    paused
    pausedAt
    rateLimit {
      max
      perMs
      burst
      overridden
    }
  }
  userErrors {
    ...UserErrorFields
  }
}`) as unknown as TypedDocumentString<SetJobTypeRateLimitMutation, SetJobTypeRateLimitMutationVariables>;
export const UpsertScheduleDocument = new TypedDocumentString(`
    mutation UpsertSchedule($input: ScheduleInput!) {
  upsertSchedule(input: $input) {
    schedule {
      ...ScheduleFields
    }
    created
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment UserErrorFields on UserError {
  code
  field
  message
}
fragment ScheduleFields on Schedule {
  name
  owner
  type
  payload
  cron
  timezone
  maxAttempts
  timeoutMs
  startWithinMs
  paused
  nextRunAt
  lastRunAt
  lastJob {
    id
    state
  }
  runs
  notify {
    channel
    target
    on
  }
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<UpsertScheduleMutation, UpsertScheduleMutationVariables>;
export const DeleteScheduleDocument = new TypedDocumentString(`
    mutation DeleteSchedule($name: String!, $owner: String) {
  deleteSchedule(name: $name, owner: $owner) {
    schedule {
      ...ScheduleFields
    }
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment UserErrorFields on UserError {
  code
  field
  message
}
fragment ScheduleFields on Schedule {
  name
  owner
  type
  payload
  cron
  timezone
  maxAttempts
  timeoutMs
  startWithinMs
  paused
  nextRunAt
  lastRunAt
  lastJob {
    id
    state
  }
  runs
  notify {
    channel
    target
    on
  }
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<DeleteScheduleMutation, DeleteScheduleMutationVariables>;
export const PauseScheduleDocument = new TypedDocumentString(`
    mutation PauseSchedule($name: String!, $owner: String) {
  pauseSchedule(name: $name, owner: $owner) {
    schedule {
      ...ScheduleFields
    }
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment UserErrorFields on UserError {
  code
  field
  message
}
fragment ScheduleFields on Schedule {
  name
  owner
  type
  payload
  cron
  timezone
  maxAttempts
  timeoutMs
  startWithinMs
  paused
  nextRunAt
  lastRunAt
  lastJob {
    id
    state
  }
  runs
  notify {
    channel
    target
    on
  }
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<PauseScheduleMutation, PauseScheduleMutationVariables>;
export const ResumeScheduleDocument = new TypedDocumentString(`
    mutation ResumeSchedule($name: String!, $owner: String) {
  resumeSchedule(name: $name, owner: $owner) {
    schedule {
      ...ScheduleFields
    }
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment UserErrorFields on UserError {
  code
  field
  message
}
fragment ScheduleFields on Schedule {
  name
  owner
  type
  payload
  cron
  timezone
  maxAttempts
  timeoutMs
  startWithinMs
  paused
  nextRunAt
  lastRunAt
  lastJob {
    id
    state
  }
  runs
  notify {
    channel
    target
    on
  }
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<ResumeScheduleMutation, ResumeScheduleMutationVariables>;
export const RunScheduleDocument = new TypedDocumentString(`
    mutation RunSchedule($name: String!, $owner: String) {
  runSchedule(name: $name, owner: $owner) {
    job {
      ...JobFields
    }
    schedule {
      ...ScheduleFields
    }
    userErrors {
      ...UserErrorFields
    }
  }
}
    fragment JobFields on Job {
  id
  type
  state
  seq
  payload
  progress
  progressMessage
  attempts
  maxAttempts
  result
  error
  createdAt
  startedAt
  finishedAt
  nextAttemptAt
  runAt
}
fragment UserErrorFields on UserError {
  code
  field
  message
}
fragment ScheduleFields on Schedule {
  name
  owner
  type
  payload
  cron
  timezone
  maxAttempts
  timeoutMs
  startWithinMs
  paused
  nextRunAt
  lastRunAt
  lastJob {
    id
    state
  }
  runs
  notify {
    channel
    target
    on
  }
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<RunScheduleMutation, RunScheduleMutationVariables>;
export const JobDocument = new TypedDocumentString(`
    query Job($id: ID!) {
  job(id: $id) {
    ...JobFields
    startBy
    events {
      ...JobEventFields
    }
  }
}
    fragment JobFields on Job {
  id
  type
  state
  seq
  payload
  progress
  progressMessage
  attempts
  maxAttempts
  result
  error
  createdAt
  startedAt
  finishedAt
  nextAttemptAt
  runAt
}
fragment JobEventFields on JobEvent {
  seq
  state
  progress
  message
  attempt
  at
}`) as unknown as TypedDocumentString<JobQuery, JobQueryVariables>;
export const JobEventsDocument = new TypedDocumentString(`
    query JobEvents($id: ID!, $after: Int, $first: Int, $last: Int) {
  job(id: $id) {
    id
    events(after: $after, first: $first, last: $last) {
      ...JobEventFields
    }
  }
}
    fragment JobEventFields on JobEvent {
  seq
  state
  progress
  message
  attempt
  at
}`) as unknown as TypedDocumentString<JobEventsQuery, JobEventsQueryVariables>;
export const JobsDocument = new TypedDocumentString(`
    query Jobs($filter: JobFilter, $first: Int, $after: String, $last: Int, $before: String) {
  jobs(
    filter: $filter
    first: $first
    after: $after
    last: $last
    before: $before
  ) {
    ...JobPage
  }
}
    fragment JobFields on Job {
  id
  type
  state
  seq
  payload
  progress
  progressMessage
  attempts
  maxAttempts
  result
  error
  createdAt
  startedAt
  finishedAt
  nextAttemptAt
  runAt
}
fragment JobPage on JobConnection {
  totalCount
  pageInfo {
    hasNextPage
    hasPreviousPage
    startCursor
    endCursor
  }
  edges {
    cursor
    node {
      ...JobFields
    }
  }
}`) as unknown as TypedDocumentString<JobsQuery, JobsQueryVariables>;
export const DeadLettersDocument = new TypedDocumentString(`
    query DeadLetters($first: Int, $after: String, $type: String) {
  deadLetters(first: $first, after: $after, type: $type) {
    ...JobPage
  }
}
    fragment JobFields on Job {
  id
  type
  state
  seq
  payload
  progress
  progressMessage
  attempts
  maxAttempts
  result
  error
  createdAt
  startedAt
  finishedAt
  nextAttemptAt
  runAt
}
fragment JobPage on JobConnection {
  totalCount
  pageInfo {
    hasNextPage
    hasPreviousPage
    startCursor
    endCursor
  }
  edges {
    cursor
    node {
      ...JobFields
    }
  }
}`) as unknown as TypedDocumentString<DeadLettersQuery, DeadLettersQueryVariables>;
export const QueueStatsDocument = new TypedDocumentString(`
    query QueueStats {
  queueStats {
    type
    queued
    scheduled
    running
    retrying
    failed
    deadLetters
    throughputLastMinute
    oldestQueuedAgeSeconds
    paused
    rateLimit {
      max
      perMs
      burst
      overridden
    }
  }
}
    `) as unknown as TypedDocumentString<QueueStatsQuery, QueueStatsQueryVariables>;
export const JobTypesDocument = new TypedDocumentString(`
    query JobTypes {
  jobTypes {
    name
    description
    defaultMaxAttempts
    maxAttempts
    timeoutMs
    payloadSchema
    paused
    pausedAt
    rateLimit {
      max
      perMs
      burst
      overridden
    }
  }
}
    `) as unknown as TypedDocumentString<JobTypesQuery, JobTypesQueryVariables>;
export const WebhookSigningDocument = new TypedDocumentString(`
    query WebhookSigning($owner: String) {
  webhookSigning(owner: $owner) {
    scope
    owner
    secret
    previousSecret
  }
}
    `) as unknown as TypedDocumentString<WebhookSigningQuery, WebhookSigningQueryVariables>;
export const SchedulesDocument = new TypedDocumentString(`
    query Schedules($owner: String) {
  schedules(owner: $owner) {
    ...ScheduleFields
  }
}
    fragment ScheduleFields on Schedule {
  name
  owner
  type
  payload
  cron
  timezone
  maxAttempts
  timeoutMs
  startWithinMs
  paused
  nextRunAt
  lastRunAt
  lastJob {
    id
    state
  }
  runs
  notify {
    channel
    target
    on
  }
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<SchedulesQuery, SchedulesQueryVariables>;
export const JobProgressDocument = new TypedDocumentString(`
    subscription JobProgress($id: ID!, $after: Int) {
  jobProgress(id: $id, after: $after) {
    ...JobUpdateFields
  }
}
    fragment JobUpdateFields on JobUpdate {
  jobId
  type
  seq
  state
  progress
  message
  attempt
  at
  result
  error
}`) as unknown as TypedDocumentString<JobProgressSubscription, JobProgressSubscriptionVariables>;
export const JobUpdatesDocument = new TypedDocumentString(`
    subscription JobUpdates($filter: JobUpdatesFilter, $since: DateTime, $lastSeenAt: DateTime) {
  jobUpdates(filter: $filter, since: $since, lastSeenAt: $lastSeenAt) {
    ...JobUpdateFields
  }
}
    fragment JobUpdateFields on JobUpdate {
  jobId
  type
  seq
  state
  progress
  message
  attempt
  at
  result
  error
}`) as unknown as TypedDocumentString<JobUpdatesSubscription, JobUpdatesSubscriptionVariables>;