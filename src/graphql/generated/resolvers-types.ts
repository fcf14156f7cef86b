import type { GraphQLResolveInfo, GraphQLScalarType, GraphQLScalarTypeConfig } from 'graphql';
import type { JobRow } from '../../db/schema.js';
import type { JobUpdateMessage } from '../../messaging/messages.js';
import type { Connection } from '../../jobs/queries.js';
import type { JobTypeView } from '../../jobs/pauses.js';
import type { DeliveryToSend } from '../../db/notifications.js';
import type { ScheduleRow } from '../../db/schedules.js';
import type { GraphQLContext } from '../context.js';
export type Maybe<T> = T | null;
export type InputMaybe<T> = T | null | undefined;
export type Omit<T, K extends keyof T> = Pick<T, Exclude<keyof T, K>>;
export type RequireFields<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** An ISO 8601 date-time string in UTC, e.g. `2026-11-29T15:24:28.123Z`. */
  DateTime: { input: Date; output: Date; }
  /** Any JSON value (object, array, string, number, boolean or null). */
  JSON: { input: unknown; output: unknown; }
};

/** The error one failed attempt ended with. */
export type AttemptError = {
  __typename?: 'AttemptError';
  /** When the attempt failed. */
  at: Scalars['DateTime']['output'];
  /**
   * The attempt number: 1-based, counted across the automatic retries of one attempt series. `retryJob` starts
   * a new series, whose attempts count from 1 again, so after a replay two errors may carry the same number
   * (oldest first still tells them apart).
   */
  attempt: Scalars['Int']['output'];
  /** The error message the handler threw (or `timed out`, `worker lost`). */
  message: Scalars['String']['output'];
};

/** The result of `cancelJob`. */
export type CancelJobPayload = {
  __typename?: 'CancelJobPayload';
  /** The job after the cancel request (CANCELLED, or RUNNING while its handler stops). */
  job?: Maybe<Job>;
  /** Why it could not be cancelled (INVALID_STATE for a finished job). */
  userErrors: Array<UserError>;
};

/**
 * Which jobs `cancelJobs` cancels: either `ids`, or a filter (`types`, `states`, `submittedBefore`; every field
 * given narrows it, none: every job of the viewer's that is not finished) with `limit`. Not both.
 */
export type CancelJobsInput = {
  /**
   * These jobs (1..1,000; a repeated id counts once). One that cannot be cancelled (no such job, finished) is
   * listed in `skipped`; the others are cancelled. Not with the filter's fields or `limit`.
   */
  ids?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** Cancel at most this many jobs in this call, those submitted first (1..1,000, default 1,000); `hasMore` says whether more match. */
  limit?: InputMaybe<Scalars['Int']['input']>;
  /** Only jobs in these states: some of QUEUED, RETRYING, RUNNING (the default: all three; another is refused with OUT_OF_RANGE). */
  states?: InputMaybe<Array<JobState>>;
  /**
   * Only jobs submitted before this instant, and at most the server's time at this call (the default): the bound
   * used is answered in the payload's `submittedBefore`; pass it to the next page's call, so that jobs submitted
   * since are left alone.
   */
  submittedBefore?: InputMaybe<Scalars['DateTime']['input']>;
  /** Only jobs of these types (any name: a type this server no longer has included). */
  types?: InputMaybe<Array<Scalars['String']['input']>>;
};

/** What `cancelJobs` did, or why it refused. */
export type CancelJobsPayload = {
  __typename?: 'CancelJobsPayload';
  /** RUNNING jobs whose worker was asked by this call to abort the handler: each becomes CANCELLED when it has. */
  cancelRequested: Scalars['Int']['output'];
  /** Jobs CANCELLED by this call (they will never run, or run again). */
  cancelled: Scalars['Int']['output'];
  /**
   * More jobs match the filter (a RUNNING job asked to stop does not): call again (with `submittedBefore` as
   * answered) to go on. Always false with `ids`.
   */
  hasMore: Scalars['Boolean']['output'];
  /** Those jobs, as after this call (by id: in the order given; by filter: those submitted first, first). */
  jobs: Array<Job>;
  /** With `ids`: the ids that were not cancelled, and why. */
  skipped: Array<SkippedJob>;
  /** With a filter: the `submittedBefore` this call used (the input's, or the server's time); null with `ids` or when refused. */
  submittedBefore?: Maybe<Scalars['DateTime']['output']>;
  /** Why the input was refused (OUT_OF_RANGE, CONFLICTING_INPUT); nothing was cancelled. */
  userErrors: Array<UserError>;
};

/** The result of `deleteSchedule`. */
export type DeleteSchedulePayload = {
  __typename?: 'DeleteSchedulePayload';
  /** The schedule as it was; null when `userErrors` is not empty. */
  schedule?: Maybe<Schedule>;
  /** UNKNOWN_SCHEDULE: you have no schedule of that name. */
  userErrors: Array<UserError>;
};

/** A background job. */
export type Job = {
  __typename?: 'Job';
  /** The error of every failed attempt, oldest first, as of this read of the job (up to its `seq`). */
  attemptErrors: Array<AttemptError>;
  /** Attempts started so far in the current attempt series. */
  attempts: Scalars['Int']['output'];
  /** When the job was submitted. */
  createdAt: Scalars['DateTime']['output'];
  /** The last error, once FAILED (or the last attempt's error while RETRYING). */
  error?: Maybe<Scalars['String']['output']>;
  /**
   * The job's history: state changes, attempt errors and progress milestones, in `seq` order, a page at a
   * time (an hour-long job records about 14,000). Without arguments, the first 500: a job with a longer
   * history answers only its first 500 rows. Page forwards with `after`: the `seq` of the last row you got;
   * a page shorter than its size is the last one. `last` gives the newest rows instead (after `after`).
   * As of this read of the job: no row after its `seq`, so the newest row is the change that made its
   * `state` (a change since, say the start of a retry, comes in a later read or from `jobProgress`).
   */
  events: Array<JobEvent>;
  /** When the job reached a terminal state. */
  finishedAt?: Maybe<Scalars['DateTime']['output']>;
  /** The job's id: a UUID, version 7 (its first 48 bits are the submit time in milliseconds, by the API's clock). */
  id: Scalars['ID']['output'];
  /**
   * The idempotency key it was submitted with; a schedule's job has `schedule:<name>:<run time>`. Null when it
   * had none. (Read from PostgreSQL only when asked for, for all the jobs of one answer together.)
   */
  idempotencyKey?: Maybe<Scalars['String']['output']>;
  /** How many attempts the job may use before it fails. */
  maxAttempts: Scalars['Int']['output'];
  /** When the next attempt is due, while RETRYING. */
  nextAttemptAt?: Maybe<Scalars['DateTime']['output']>;
  /** The notifications this job has caused so far, oldest first. */
  notifications: Array<NotificationDelivery>;
  /** The payload it was submitted with. */
  payload: Scalars['JSON']['output'];
  /** Progress of the current attempt, 0..100. */
  progress: Scalars['Float']['output'];
  /** The handler's last progress message. */
  progressMessage?: Maybe<Scalars['String']['output']>;
  /** What the handler returned, once SUCCEEDED. */
  result?: Maybe<Scalars['JSON']['output']>;
  /**
   * A scheduled job's `runAt`: it did not start, and does not, before this instant (it stays QUEUED until then).
   * Null for a job submitted to run at once (no `runAt`, or one not in the future), rescheduled to run now, or
   * replayed by `retryJob`. `rescheduleJob` of a QUEUED job sets it.
   */
  runAt?: Maybe<Scalars['DateTime']['output']>;
  /**
   * The seq of the job's latest recorded change (its newest history row; what this read of the job shows).
   * An update from `jobProgress` or `jobUpdates` with a greater seq is newer than this read; one with a seq
   * at or below it is already in it.
   */
  seq: Scalars['Int']['output'];
  /**
   * The job's `startBy`: no attempt starts after this instant (by PostgreSQL's clock); still waiting then, the job
   * is FAILED with error `expired: not started by <startBy>`. Null when it had none, or once replayed by
   * `retryJob` (a replay clears it, so the replay runs). (Read from PostgreSQL only when asked for, as
   * `idempotencyKey`.)
   */
  startBy?: Maybe<Scalars['DateTime']['output']>;
  /** When the current attempt started. */
  startedAt?: Maybe<Scalars['DateTime']['output']>;
  /** Where the job is in its lifecycle. */
  state: JobState;
  /** The job type, e.g. `demo.sleep`; see `jobTypes`. */
  type: Scalars['String']['output'];
};


/** A background job. */
export type JobEventsArgs = {
  after?: InputMaybe<Scalars['Int']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
};

/** A page of jobs, newest first. */
export type JobConnection = {
  __typename?: 'JobConnection';
  /** The jobs of this page, each with its cursor. */
  edges: Array<JobEdge>;
  /** Where this page sits; pass `endCursor` as `after` for the next page. */
  pageInfo: PageInfo;
  /** How many jobs match the filter, across all pages. */
  totalCount: Scalars['Int']['output'];
};

/** A job in a page. */
export type JobEdge = {
  __typename?: 'JobEdge';
  /** Opaque cursor for `after`/`before`. */
  cursor: Scalars['String']['output'];
  /** The job. */
  node: Job;
};

/** One entry of a job's history. */
export type JobEvent = {
  __typename?: 'JobEvent';
  /** When it happened. */
  at: Scalars['DateTime']['output'];
  /** The attempt this event belongs to. */
  attempt: Scalars['Int']['output'];
  /** The change's own message (`replayed`, `rescheduled to …`, `handed back …`), else the error of a RETRYING or FAILED job, else the progress message: as its `JobUpdate` says. */
  message?: Maybe<Scalars['String']['output']>;
  /** Progress after this event, 0..100. */
  progress: Scalars['Float']['output'];
  /** Per-job sequence number, starting at 1; `jobProgress(after:)` resumes from it. */
  seq: Scalars['Int']['output'];
  /** The state after this event. */
  state: JobState;
};

/** Which jobs `jobs` lists. Every field narrows the list; omitted fields do not filter. */
export type JobFilter = {
  /** Only jobs created at or after this instant. */
  createdAfter?: InputMaybe<Scalars['DateTime']['input']>;
  /** Only jobs created before this instant. */
  createdBefore?: InputMaybe<Scalars['DateTime']['input']>;
  /**
   * Only these jobs (at most 100 ids): the states of a batch you submitted, in one call. An id that is no job's,
   * or another owner's, matches nothing; each job is listed once.
   */
  ids?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** Only jobs in one of these states. */
  states?: InputMaybe<Array<JobState>>;
  /** Only jobs of one of these types. */
  types?: InputMaybe<Array<Scalars['String']['input']>>;
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

/** A registered job type. */
export type JobType = {
  __typename?: 'JobType';
  /** Default `maxAttempts`. */
  defaultMaxAttempts: Scalars['Int']['output'];
  /** What it does. */
  description: Scalars['String']['output'];
  /** The most `maxAttempts` a submit may ask for: 100, or the type's max deliveries (`maxDeliver`) when fewer. */
  maxAttempts: Scalars['Int']['output'];
  /** The name to submit with. */
  name: Scalars['String']['output'];
  /** Paused by an admin (`pauseJobType`): workers start none of its jobs until `resumeJobType`; submits are still accepted. */
  paused: Scalars['Boolean']['output'];
  /** When it was paused; null while it is not. */
  pausedAt?: Maybe<Scalars['DateTime']['output']>;
  /** JSON Schema of the payload a submit may send (a field with a default may be left out). */
  payloadSchema: Scalars['JSON']['output'];
  /**
   * How many of its jobs may start, across all workers together (an admin's override, else its `rateLimit` in
   * this server's definition of it, as `queueStats` shows it); null when it has none.
   */
  rateLimit?: Maybe<RateLimit>;
  /** Per-attempt timeout in milliseconds. */
  timeoutMs: Scalars['Int']['output'];
};

/** The result of `pauseJobType`, `resumeJobType` and `setJobTypeRateLimit`. */
export type JobTypePayload = {
  __typename?: 'JobTypePayload';
  /**
   * The job type as it is now; null when `userErrors` is not empty, or when `resumeJobType` resumed a type this
   * server does not have (a pause left on when the type was removed from the code).
   */
  jobType?: Maybe<JobType>;
  /**
   * Why nothing was done (UNKNOWN_JOB_TYPE: this server has no such type; for `resumeJobType`, nor is a type of
   * that name paused. `setJobTypeRateLimit`: INVALID_STATE on `type` for a type without `rateLimit` in its
   * definition; OUT_OF_RANGE on `["rateLimit", "max" | "perMs" | "burst"]`).
   */
  userErrors: Array<UserError>;
};

/** One change to a job, as streamed by `jobProgress` and `jobUpdates`. */
export type JobUpdate = {
  __typename?: 'JobUpdate';
  /** When the change happened. */
  at: Scalars['DateTime']['output'];
  /** The attempt in progress. */
  attempt: Scalars['Int']['output'];
  /** The error, on FAILED or RETRYING. */
  error?: Maybe<Scalars['String']['output']>;
  /** The job. */
  jobId: Scalars['ID']['output'];
  /** Progress message or error text. */
  message?: Maybe<Scalars['String']['output']>;
  /** Progress after the change, 0..100. */
  progress: Scalars['Float']['output'];
  /** The result, on SUCCEEDED. */
  result?: Maybe<Scalars['JSON']['output']>;
  /** Per-job sequence number of this change (the first snapshot carries the latest seq). */
  seq: Scalars['Int']['output'];
  /** State after the change. */
  state: JobState;
  /** The job's type. */
  type: Scalars['String']['output'];
};

/** Which live updates `jobUpdates` sends. Fields combine with AND; a list matches any of its values. */
export type JobUpdatesFilter = {
  /** Only updates of these jobs (at most 100). */
  ids?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** Only updates into these states. */
  states?: InputMaybe<Array<JobState>>;
  /**
   * Only updates of jobs of these types (at most 20): types this server has, and a type removed or renamed since
   * while jobs of it are queued, running, retrying or failed (those queueStats counts); any other is refused.
   */
  types?: InputMaybe<Array<Scalars['String']['input']>>;
};

/** Submitting and steering jobs. */
export type Mutation = {
  __typename?: 'Mutation';
  /** Cancel a job: a QUEUED/RETRYING job never runs; a RUNNING job's handler is aborted. */
  cancelJob: CancelJobPayload;
  /**
   * Cancel jobs, by id or by a filter, at most 1,000 per call: each one exactly as `cancelJob` cancels it (the
   * waiting ones in one statement). Call again while `hasMore`.
   */
  cancelJobs: CancelJobsPayload;
  /** Delete your schedule: it submits no more jobs (those it made are left as they are). */
  deleteSchedule: DeleteSchedulePayload;
  /**
   * Admins only (else FORBIDDEN): pause a job type. Workers start none of its jobs from then on (a worker hears
   * of it at once over NATS, or reads it within 5 s); the jobs they have started go on, and submits are still
   * accepted, the jobs waiting QUEUED. Pausing a paused type changes nothing (it keeps its `pausedAt`).
   */
  pauseJobType: JobTypePayload;
  /** Pause your schedule: it submits nothing until `resumeSchedule` (a paused one stays as it is). */
  pauseSchedule: SchedulePayload;
  /**
   * Admins only (else FORBIDDEN): delete finished jobs now, with everything that belongs to them, as the
   * built-in retention does (JOB_RETENTION_DAYS, FAILED_JOB_RETENTION_DAYS). A deleted job is gone: `job` is
   * null, its idempotency key is free again.
   */
  purgeJobs: PurgeJobsPayload;
  /**
   * Move a waiting job: a QUEUED job (scheduled or not) runs at `runAt` instead, a RETRYING job's next attempt
   * is due at `runAt` instead of after its backoff. Never before that instant (by PostgreSQL's clock), once, within
   * about `RELAY_INTERVAL_MS` after it. Another state is refused with INVALID_STATE. A job with a `startBy` is not
   * moved to a `runAt` after it: OUT_OF_RANGE on `runAt`, nothing changed.
   */
  rescheduleJob: RescheduleJobPayload;
  /**
   * Admins only (else FORBIDDEN): resume a paused job type: workers pull its jobs again. A type this server no
   * longer has can be resumed while it is paused (its pause left on when it was removed from the code), which
   * answers `jobType: null`; one neither known nor paused is UNKNOWN_JOB_TYPE.
   */
  resumeJobType: JobTypePayload;
  /**
   * Resume your paused schedule: its next run is the first time its cron names after now (runs it missed while
   * paused are skipped); a running one stays as it is.
   */
  resumeSchedule: SchedulePayload;
  /**
   * Replay a FAILED job as a new attempt series (same id, history kept). Its `runAt` and `startBy` are cleared: a
   * job that expired (`expired: not started by …`) runs at once.
   */
  retryJob: RetryJobPayload;
  /**
   * Replay FAILED jobs, by id or by a filter, at most 1,000 per call, in one transaction: each one exactly as
   * `retryJob` replays it. Call again while `hasMore`.
   */
  retryJobs: RetryJobsPayload;
  /**
   * Run your schedule now: its job is submitted at once (run time: now), paused or not, as a run at its time
   * would be; its next run stays as it is.
   */
  runSchedule: RunSchedulePayload;
  /**
   * Admins only (else FORBIDDEN): override a rate-limited type's limit at run time (a provider cut the quota),
   * for every worker from its next pull on; `rateLimit: null` clears the override, back to the definition's.
   * Workers older than this version ignore the override. A type without `rateLimit` in its definition cannot
   * be overridden (its workers take no tokens): INVALID_STATE; pause it instead. An override left from when a
   * type had a limit (or existed) can still be cleared: a type this server no longer has answers `jobType: null`
   * then, and UNKNOWN_JOB_TYPE when it has no override either.
   */
  setJobTypeRateLimit: JobTypePayload;
  /**
   * Accept a job: it is stored and queued, and this returns at once (QUEUED). Its payload counts towards the
   * operation's payloads together (see `submitJobs`); past what the submits before it left, it is refused,
   * OUT_OF_RANGE on `["input", "payload"]`.
   */
  submitJob: SubmitJobPayload;
  /**
   * Accept up to 1,000 jobs in one transaction, all or nothing: if any input is invalid, none is stored and
   * `userErrors` names each bad input by its index. Their payloads together may come to at most the largest
   * request the server reads (`HTTP_BODY_LIMIT_BYTES` or `WS_MAX_MESSAGE_BYTES`, as JSON text), so one variable
   * written in every input counts each time; more is refused whole, OUT_OF_RANGE on `["inputs"]` (or on the
   * payloads found past 256 KiB before the limit was passed, `["inputs", "3", "payload"]`). The same
   * limit holds for the payloads of every `submitJob` and `submitJobs` of one operation together (aliased
   * fields): a field past what those before it wrote left is refused whole, the ones before it stay written.
   */
  submitJobs: SubmitJobsPayload;
  /**
   * Create a schedule (a recurring job), or replace yours of the same name; its next run counts from now. Its
   * payload counts towards the operation's payloads as a submit's does.
   */
  upsertSchedule: UpsertSchedulePayload;
};


/** Submitting and steering jobs. */
export type MutationCancelJobArgs = {
  id: Scalars['ID']['input'];
};


/** Submitting and steering jobs. */
export type MutationCancelJobsArgs = {
  input: CancelJobsInput;
};


/** Submitting and steering jobs. */
export type MutationDeleteScheduleArgs = {
  name: Scalars['String']['input'];
  owner?: InputMaybe<Scalars['String']['input']>;
};


/** Submitting and steering jobs. */
export type MutationPauseJobTypeArgs = {
  type: Scalars['String']['input'];
};


/** Submitting and steering jobs. */
export type MutationPauseScheduleArgs = {
  name: Scalars['String']['input'];
  owner?: InputMaybe<Scalars['String']['input']>;
};


/** Submitting and steering jobs. */
export type MutationPurgeJobsArgs = {
  input: PurgeJobsInput;
};


/** Submitting and steering jobs. */
export type MutationRescheduleJobArgs = {
  id: Scalars['ID']['input'];
  runAt?: InputMaybe<Scalars['DateTime']['input']>;
};


/** Submitting and steering jobs. */
export type MutationResumeJobTypeArgs = {
  type: Scalars['String']['input'];
};


/** Submitting and steering jobs. */
export type MutationResumeScheduleArgs = {
  name: Scalars['String']['input'];
  owner?: InputMaybe<Scalars['String']['input']>;
};


/** Submitting and steering jobs. */
export type MutationRetryJobArgs = {
  id: Scalars['ID']['input'];
  timeoutMs?: InputMaybe<Scalars['Int']['input']>;
};


/** Submitting and steering jobs. */
export type MutationRetryJobsArgs = {
  input: RetryJobsInput;
};


/** Submitting and steering jobs. */
export type MutationRunScheduleArgs = {
  name: Scalars['String']['input'];
  owner?: InputMaybe<Scalars['String']['input']>;
};


/** Submitting and steering jobs. */
export type MutationSetJobTypeRateLimitArgs = {
  rateLimit?: InputMaybe<RateLimitInput>;
  type: Scalars['String']['input'];
};


/** Submitting and steering jobs. */
export type MutationSubmitJobArgs = {
  input: SubmitJobInput;
};


/** Submitting and steering jobs. */
export type MutationSubmitJobsArgs = {
  inputs: Array<SubmitJobInput>;
};


/** Submitting and steering jobs. */
export type MutationUpsertScheduleArgs = {
  input: ScheduleInput;
};

/** How a notification is sent. */
export type NotificationChannel =
  /** An email sent over the server's SMTP_URL. */
  | 'EMAIL'
  /** An HTTP POST of a signed JSON body to the webhook URL. */
  | 'WEBHOOK';

/** One notification a job's state change caused. */
export type NotificationDelivery = {
  __typename?: 'NotificationDelivery';
  /** Send attempts so far. */
  attempts: Scalars['Int']['output'];
  /** How it is sent: the channel of the `notify` entry that asked for it. */
  channel: NotificationChannel;
  /** When the job's state change caused it. */
  createdAt: Scalars['DateTime']['output'];
  /** When it was accepted (SENT) or given up on (FAILED). */
  finishedAt?: Maybe<Scalars['DateTime']['output']>;
  /** The delivery id, the same on every retry: the signed webhook body's `deliveryId` (receivers dedupe on it) and the `Longrun-Delivery-Id` header. */
  id: Scalars['ID']['output'];
  /** The job state it reports. */
  jobState: JobState;
  /** The last failed attempt's error. */
  lastError?: Maybe<Scalars['String']['output']>;
  /**
   * When it is due to be tried again (it goes back to a notifier within the relay's interval after), while it
   * waits: after a failed attempt with attempts left, or for a turn of its receiver (whose slots were in use, or
   * whose latest send failed). Null when it is not waiting (on its way to a notifier, being sent, SENT or FAILED).
   */
  nextAttemptAt?: Maybe<Scalars['DateTime']['output']>;
  /** Whether it is still to be sent, was sent, or was given up on. */
  status: NotificationStatus;
  /** The webhook URL or email address. */
  target: Scalars['String']['output'];
};

/** Where a notification delivery is. */
export type NotificationStatus =
  /** Given up on after its attempts (dead-lettered); `lastError` says why. */
  | 'FAILED'
  /** Not sent yet, or waiting to be tried again (`nextAttemptAt`). */
  | 'PENDING'
  /** The receiver accepted it (2xx, or the SMTP server took the message). */
  | 'SENT';

/** A notification to send when the job reaches one of the `on` states: give exactly one of `webhook` or `email`. */
export type NotifyInput = {
  /** An email address (sent over the server's SMTP_URL). */
  email?: InputMaybe<Scalars['String']['input']>;
  /** Terminal states that trigger it. Default: SUCCEEDED and FAILED. */
  on?: InputMaybe<Array<JobState>>;
  /**
   * An http(s) URL to POST a JSON body to, signed with HMAC-SHA256 in the `Longrun-Signature` header (and, with
   * the time of each attempt, in `Longrun-Signature-V2`) and carrying a `Longrun-Delivery-Id` that stays the same
   * across retries. Loopback, private and link-local addresses are
   * refused unless the server allows them.
   */
  webhook?: InputMaybe<Scalars['String']['input']>;
};

/** Where a page of a connection sits (Relay cursor connections). */
export type PageInfo = {
  __typename?: 'PageInfo';
  /** Cursor of the last edge, or null for an empty page. */
  endCursor?: Maybe<Scalars['String']['output']>;
  /** Whether more items follow the last edge (towards older jobs). */
  hasNextPage: Scalars['Boolean']['output'];
  /** Whether items precede the first edge (towards newer jobs). */
  hasPreviousPage: Scalars['Boolean']['output'];
  /** Cursor of the first edge, or null for an empty page. */
  startCursor?: Maybe<Scalars['String']['output']>;
};

/** Which finished jobs `purgeJobs` deletes. */
export type PurgeJobsInput = {
  /** Count the jobs that would be deleted (all of them: `limit` does not apply); delete nothing. */
  dryRun?: InputMaybe<Scalars['Boolean']['input']>;
  /** Delete at most this many jobs in this call (1..10,000, default 10,000); `hasMore` says whether more match. */
  limit?: InputMaybe<Scalars['Int']['input']>;
  /** Only jobs that finished at least this many seconds ago (0: every finished job). */
  olderThanSeconds: Scalars['Int']['input'];
  /** Only jobs in these states (SUCCEEDED, FAILED, CANCELLED; all three when omitted). Others, and an empty list, are refused. */
  states?: InputMaybe<Array<JobState>>;
};

/** What `purgeJobs` deleted, or why it refused. */
export type PurgeJobsPayload = {
  __typename?: 'PurgeJobsPayload';
  /** Copies of FAILED jobs removed from the dead-letter stream with them. */
  deadLetterCopiesRemoved: Scalars['Int']['output'];
  /** More jobs match: call again to go on. */
  hasMore: Scalars['Boolean']['output'];
  /** Jobs deleted, with their history, notification deliveries and outbox entries (with `dryRun`: jobs that would be). */
  purged: Scalars['Int']['output'];
  /** Why the input was refused (INVALID_STATE for a state that is not finished, OUT_OF_RANGE). */
  userErrors: Array<UserError>;
};

/** Reading jobs, stats and job types. */
export type Query = {
  __typename?: 'Query';
  /** Jobs that failed and sit in the dead-letter queue, newest first. */
  deadLetters: JobConnection;
  /** A job by id, or null if there is none. */
  job?: Maybe<Job>;
  /** The job types this server accepts (a paused type it no longer has is in `queueStats`, with `paused`). */
  jobTypes: Array<JobType>;
  /**
   * The viewer's jobs, newest first (by `createdAt`, then `id`), as a Relay cursor connection. Page forwards
   * with `first`/`after` or backwards with `last`/`before` (at most 100 per page). Cursors are keyset
   * positions, so pages stay stable while new jobs arrive.
   */
  jobs: JobConnection;
  /**
   * Per-type counts, including the dead-letter stream's size: for every type this server accepts, and for any
   * other type that still has jobs queued, running, retrying or failed (one removed or renamed since), or that is
   * still paused (a pause left on when it was removed: `resumeJobType` clears it).
   */
  queueStats: Array<QueueStats>;
  /** Your schedules (recurring jobs), by name (at most 100 per owner); an admin may ask for another owner's. */
  schedules: Array<Schedule>;
  /**
   * The secrets that sign the webhooks of an owner's jobs: the caller's own owner by default; another owner's
   * needs an admin key (FORBIDDEN).
   */
  webhookSigning: WebhookSigning;
};


/** Reading jobs, stats and job types. */
export type QueryDeadLettersArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  type?: InputMaybe<Scalars['String']['input']>;
};


/** Reading jobs, stats and job types. */
export type QueryJobArgs = {
  id: Scalars['ID']['input'];
};


/** Reading jobs, stats and job types. */
export type QueryJobsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<JobFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
};


/** Reading jobs, stats and job types. */
export type QuerySchedulesArgs = {
  owner?: InputMaybe<Scalars['String']['input']>;
};


/** Reading jobs, stats and job types. */
export type QueryWebhookSigningArgs = {
  owner?: InputMaybe<Scalars['String']['input']>;
};

/** Counts and rates for one job type. */
export type QueueStats = {
  __typename?: 'QueueStats';
  /**
   * Messages in the dead-letter stream for this type (for a viewer who is not an admin: their jobs recorded
   * there). When NATS does not answer within 1.5 s, the jobs PostgreSQL records as dead letters.
   */
  deadLetters: Scalars['Int']['output'];
  /** Jobs that failed for good. */
  failed: Scalars['Int']['output'];
  /**
   * Seconds the longest-waiting QUEUED job of this type has been queued: since its submit, or since `retryJob`,
   * `rescheduleJob` or a worker put it back in the queue (stopping, or its type paused); a scheduled job since its `runAt` (one not due
   * yet does not count). Null when none is queued and due.
   */
  oldestQueuedAgeSeconds?: Maybe<Scalars['Float']['output']>;
  /** Paused by an admin (`pauseJobType`): its queued jobs wait until `resumeJobType`. */
  paused: Scalars['Boolean']['output'];
  /** Jobs waiting for a worker (scheduled ones included). */
  queued: Scalars['Int']['output'];
  /**
   * How many jobs of the type may start, across all workers together: an admin's override
   * (`setJobTypeRateLimit`) when set, else the type's `rateLimit` in this server's definition of it; null when
   * it has none, or when this server does not have the type.
   */
  rateLimit?: Maybe<RateLimit>;
  /** Jobs waiting for their next attempt. */
  retrying: Scalars['Int']['output'];
  /** Jobs a worker is running. */
  running: Scalars['Int']['output'];
  /** Of `queued`, the scheduled jobs whose `runAt` has not come yet. */
  scheduled: Scalars['Int']['output'];
  /** Jobs of this type that reached a terminal state (SUCCEEDED, FAILED or CANCELLED) in the last 60 seconds. */
  throughputLastMinute: Scalars['Int']['output'];
  /** The job type. */
  type: Scalars['String']['output'];
};

/**
 * A job type's rate limit: `max` starts per `perMs`, counted across all workers, as a bucket of `burst` starts
 * that refills one start every `perMs / max` ms. It limits starts, not completions; a retried or handed-back job
 * starts again and counts again.
 */
export type RateLimit = {
  __typename?: 'RateLimit';
  /** Starts the bucket holds: the most that start at once after an idle spell (1..max; `max` unless the type sets it). */
  burst: Scalars['Int']['output'];
  /** Starts per `perMs`, over time. */
  max: Scalars['Int']['output'];
  /** True while an admin's override (`setJobTypeRateLimit`) is in force instead of the type's definition's limit. */
  overridden: Scalars['Boolean']['output'];
  /** The period in milliseconds over which `max` starts refill. */
  perMs: Scalars['Int']['output'];
};

/** A rate limit an admin sets at run time (`setJobTypeRateLimit`), in the ranges a type's definition has. */
export type RateLimitInput = {
  /** The most that start at once after an idle spell: 1..max; default max. */
  burst?: InputMaybe<Scalars['Int']['input']>;
  /** Starts per `perMs`: 1..100000. */
  max: Scalars['Int']['input'];
  /** The period in milliseconds: 1..86400000 (a day). */
  perMs: Scalars['Int']['input'];
};

/** The result of `rescheduleJob`. */
export type RescheduleJobPayload = {
  __typename?: 'RescheduleJobPayload';
  /** The job with its new time: QUEUED with `runAt` (null: now), or RETRYING with `nextAttemptAt`. */
  job?: Maybe<Job>;
  /**
   * Why it could not be rescheduled (INVALID_STATE unless QUEUED or RETRYING; OUT_OF_RANGE for a `runAt` more
   * than 366 days ahead). Nothing was changed then.
   */
  userErrors: Array<UserError>;
};

/** The result of `retryJob`. */
export type RetryJobPayload = {
  __typename?: 'RetryJobPayload';
  /** The job, QUEUED again for a new attempt series. */
  job?: Maybe<Job>;
  /**
   * Why it could not be retried (INVALID_STATE unless FAILED; UNKNOWN_JOB_TYPE when this server no longer has its
   * type; OUT_OF_RANGE for a `timeoutMs` outside its type's range).
   */
  userErrors: Array<UserError>;
};

/**
 * Which FAILED jobs `retryJobs` replays: either `ids`, or a filter (`types`, `failedAfter`, `failedBefore`,
 * `onlyDeadLettered`; every field given narrows it, none: every FAILED job the viewer sees) with `limit`. Not both.
 */
export type RetryJobsInput = {
  /** Only jobs that failed at or after this instant (their `finishedAt`). */
  failedAfter?: InputMaybe<Scalars['DateTime']['input']>;
  /**
   * Only jobs that failed before this instant, and at most the server's time at this call (the default): the
   * bound used is answered in the payload's `failedBefore`; pass it to the next page's call, so that a job
   * replayed by this call and failed again since is not replayed again.
   */
  failedBefore?: InputMaybe<Scalars['DateTime']['input']>;
  /**
   * These jobs (1..1,000; a repeated id counts once). One that cannot be replayed (no such job, not FAILED, a type
   * this server no longer has) is listed in `skipped`; the others are replayed. Not with the filter's fields or `limit`.
   */
  ids?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** Replay at most this many jobs in this call, the ones that failed first (1..1,000, default 1,000); `hasMore` says whether more match. */
  limit?: InputMaybe<Scalars['Int']['input']>;
  /** Only jobs whose copy is recorded in the dead-letter stream (those `deadLetters` lists). */
  onlyDeadLettered?: InputMaybe<Scalars['Boolean']['input']>;
  /**
   * Per-attempt timeout of the replayed attempt series, in milliseconds: 100..the current timeout of each
   * replayed job's type (else OUT_OF_RANGE and nothing is replayed). Default: each job keeps its own.
   */
  timeoutMs?: InputMaybe<Scalars['Int']['input']>;
  /** Only jobs of these types (types this server has; another is refused with UNKNOWN_JOB_TYPE). */
  types?: InputMaybe<Array<Scalars['String']['input']>>;
};

/** What `retryJobs` replayed, or why it refused. */
export type RetryJobsPayload = {
  __typename?: 'RetryJobsPayload';
  /** With a filter: the `failedBefore` this call used (the input's, or the server's time); null with `ids` or when refused. */
  failedBefore?: Maybe<Scalars['DateTime']['output']>;
  /** More jobs match the filter: call again (with `failedBefore` as answered) to go on. Always false with `ids`. */
  hasMore: Scalars['Boolean']['output'];
  /** The replayed jobs, QUEUED again for a new attempt series (by id: in the order given; by filter: those that failed first, first). */
  jobs: Array<Job>;
  /** Jobs replayed by this call. */
  retried: Scalars['Int']['output'];
  /** With `ids`: the ids that were not replayed, and why. */
  skipped: Array<SkippedJob>;
  /** Why the input was refused (OUT_OF_RANGE, UNKNOWN_JOB_TYPE, CONFLICTING_INPUT); nothing was replayed. */
  userErrors: Array<UserError>;
};

/** The result of `runSchedule`. */
export type RunSchedulePayload = {
  __typename?: 'RunSchedulePayload';
  /** The job it submitted (QUEUED); null when `userErrors` is not empty. */
  job?: Maybe<Job>;
  /** The schedule after the run (its `runs` and `lastJob` count it). */
  schedule?: Maybe<Schedule>;
  /** UNKNOWN_SCHEDULE: you have no schedule of that name; UNKNOWN_JOB_TYPE: this server has not its type. */
  userErrors: Array<UserError>;
};

/**
 * A recurring job (`upsertSchedule`): each time its cron expression names, the server submits its job, as
 * `submitJob` would, owned by the schedule's owner, with idempotency key `schedule:<name>:<run time>`. One run
 * makes one job however many API processes run; runs missed while no API process ran make one job together.
 */
export type Schedule = {
  __typename?: 'Schedule';
  /** When it was created. */
  createdAt: Scalars['DateTime']['output'];
  /**
   * When it runs: five cron fields (minute hour day-of-month month day-of-week), or six with seconds first, or
   * `@yearly`, `@monthly`, `@weekly`, `@daily`, `@hourly`.
   */
  cron: Scalars['String']['output'];
  /** Its last run's job; null before its first run, or once that job is deleted (retention, `purgeJobs`). */
  lastJob?: Maybe<Job>;
  /** The run time of its last run (when it was due, not when the job was made); null before its first. */
  lastRunAt?: Maybe<Scalars['DateTime']['output']>;
  /** Attempts each run's job gets; null: its type's default at that run. */
  maxAttempts?: Maybe<Scalars['Int']['output']>;
  /** Its name, unique among its owner's schedules. */
  name: Scalars['String']['output'];
  /** When it next submits its job; null while paused. */
  nextRunAt?: Maybe<Scalars['DateTime']['output']>;
  /** The notifications each run's job gets (empty: none). */
  notify: Array<ScheduleNotify>;
  /** Whose it is: the owner of the key that made it; its jobs are that owner's. */
  owner: Scalars['String']['output'];
  /** Paused (`pauseSchedule`, or `paused: true` in `upsertSchedule`): it submits nothing until resumed (its next run then counts from then). */
  paused: Scalars['Boolean']['output'];
  /** The payload each run's job gets. */
  payload: Scalars['JSON']['output'];
  /** How many jobs it has submitted. */
  runs: Scalars['Int']['output'];
  /**
   * Its start window, ms: each run's job gets `startBy` = its run time (when it was due, as `lastRunAt`) + this, so a
   * run made late, or a job still waiting then, ends FAILED `expired: not started by <startBy>` instead of running
   * late. Null: none (its jobs wait as long as it takes).
   */
  startWithinMs?: Maybe<Scalars['Int']['output']>;
  /** Each attempt's timeout, ms; null: its type's default at that run. */
  timeoutMs?: Maybe<Scalars['Int']['output']>;
  /** The IANA time zone the cron is read in (default UTC), e.g. `Europe/Berlin`. */
  timezone: Scalars['String']['output'];
  /** The job type each run submits. */
  type: Scalars['String']['output'];
  /** When `upsertSchedule` last wrote it. */
  updatedAt: Scalars['DateTime']['output'];
};

/** What `upsertSchedule` stores. */
export type ScheduleInput = {
  /** When it runs (see `Schedule.cron`); a cron that never comes (30 February) is refused. */
  cron: Scalars['String']['input'];
  /** Attempts each run's job gets, as `SubmitJobInput.maxAttempts`. Default: the type's at each run. */
  maxAttempts?: InputMaybe<Scalars['Int']['input']>;
  /** Its name (1..200 characters): an existing schedule of yours with this name is replaced. */
  name: Scalars['String']['input'];
  /** Notifications to send when each run's job finishes (at most 10), checked as `SubmitJobInput.notify` is. */
  notify?: InputMaybe<Array<NotifyInput>>;
  /** Store it paused (default false). */
  paused?: InputMaybe<Scalars['Boolean']['input']>;
  /** The payload, checked against the type's payload schema now, as a submit's is. Default `{}`. */
  payload?: InputMaybe<Scalars['JSON']['input']>;
  /**
   * A start window, ms (see `Schedule.startWithinMs`): 1000..2147483647, about 24.8 days (OUT_OF_RANGE otherwise).
   * `runSchedule` counts it from now. Default: none.
   */
  startWithinMs?: InputMaybe<Scalars['Int']['input']>;
  /** Each attempt's timeout, as `SubmitJobInput.timeoutMs`. Default: the type's at each run. */
  timeoutMs?: InputMaybe<Scalars['Int']['input']>;
  /** The IANA time zone the cron is read in. Default `UTC`. */
  timezone?: InputMaybe<Scalars['String']['input']>;
  /** The job type each run submits; see `jobTypes`. */
  type: Scalars['String']['input'];
};

/** A notification each job of a schedule gets (`ScheduleInput.notify`). */
export type ScheduleNotify = {
  __typename?: 'ScheduleNotify';
  /** How it is sent. */
  channel: NotificationChannel;
  /** The terminal states that trigger it. */
  on: Array<JobState>;
  /** The webhook URL or email address. */
  target: Scalars['String']['output'];
};

/** The result of `pauseSchedule` and `resumeSchedule`. */
export type SchedulePayload = {
  __typename?: 'SchedulePayload';
  /** The schedule as it is now; null when `userErrors` is not empty. */
  schedule?: Maybe<Schedule>;
  /** UNKNOWN_SCHEDULE: you have no schedule of that name. */
  userErrors: Array<UserError>;
};

/** A job `retryJobs` or `cancelJobs` was asked for by id and left alone (nothing was written for it). */
export type SkippedJob = {
  __typename?: 'SkippedJob';
  /**
   * NOT_FOUND (no such job, or not the viewer's); INVALID_STATE (`retryJobs`: not FAILED; `cancelJobs`:
   * finished); UNKNOWN_JOB_TYPE (`retryJobs`: this server no longer has its type).
   */
  code: Scalars['String']['output'];
  /** The id as given. */
  id: Scalars['ID']['output'];
  /** Human-readable explanation. */
  message: Scalars['String']['output'];
};

/** What to submit. */
export type SubmitJobInput = {
  /**
   * Submitting the same key again with the same type returns the first job instead of creating another (per
   * owner); with another type it is refused with IDEMPOTENCY_KEY_REUSED.
   */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /** Attempts allowed, 1 up to the type's `maxAttempts` (see `jobTypes`; at most 100). Default: the type's default. */
  maxAttempts?: InputMaybe<Scalars['Int']['input']>;
  /** Notifications to send when the job finishes (at most 10). */
  notify?: InputMaybe<Array<NotifyInput>>;
  /** The job's input, checked against the type's payload schema. Default `{}`. */
  payload?: InputMaybe<Scalars['JSON']['input']>;
  /**
   * Schedules the job: it stays QUEUED and does not start before this instant (by PostgreSQL's clock; it starts
   * within about `RELAY_INTERVAL_MS` after it). At most 366 days ahead (OUT_OF_RANGE). Absent, or not in the
   * future: the job runs as soon as a worker is free, as without it. A `retryJob` of the job runs it at once.
   * `rescheduleJob` moves it.
   */
  runAt?: InputMaybe<Scalars['DateTime']['input']>;
  /**
   * A deadline to start by: no attempt (the first or a retry) starts after this instant, by PostgreSQL's clock.
   * A job still QUEUED or RETRYING then (no worker for its type, its type paused, a backlog, a backoff past it)
   * ends FAILED with error `expired: not started by <startBy>`, within about `RELAY_INTERVAL_MS` (it is not
   * dead-lettered; its FAILED notifications are sent as for any failure). Must be in the future, at most 366
   * days ahead, and after `runAt` when both are given (OUT_OF_RANGE on `startBy` otherwise). An attempt that
   * started before it runs to its end, and a `retryJob` replay clears it. `rescheduleJob` does not move a job
   * past it.
   */
  startBy?: InputMaybe<Scalars['DateTime']['input']>;
  /** Per-attempt timeout in milliseconds, 100..the type's timeout. Default: the type's timeout. */
  timeoutMs?: InputMaybe<Scalars['Int']['input']>;
  /** A registered job type; see `jobTypes`. */
  type: Scalars['String']['input'];
};

/** The result of `submitJob`. */
export type SubmitJobPayload = {
  __typename?: 'SubmitJobPayload';
  /** The accepted job (QUEUED), or null when `userErrors` is not empty. */
  job?: Maybe<Job>;
  /** Why the input was refused. */
  userErrors: Array<UserError>;
};

/** The result of `submitJobs`. */
export type SubmitJobsPayload = {
  __typename?: 'SubmitJobsPayload';
  /** The accepted jobs (QUEUED), in input order; null when `userErrors` is not empty (then none was accepted). */
  jobs?: Maybe<Array<Job>>;
  /** Why the batch was refused; each `field` starts with `["inputs", "<index>"]`. */
  userErrors: Array<UserError>;
};

/** Live job updates over graphql-ws. */
export type Subscription = {
  __typename?: 'Subscription';
  /**
   * The job's current state first, then each change in order; completes after a terminal state.
   * With `after: seq`, every recorded change after that seq is replayed first, then live ones.
   * NOT_FOUND when the job was deleted (purged, or past its retention) before its end reached the watch.
   */
  jobProgress: JobUpdate;
  /**
   * Live updates of the viewer's jobs that match the filter (every job when omitted), as they happen; never
   * completes. No snapshot: read `jobs` for the current state.
   * With `since`, the recorded history of those jobs at or after `since` (state changes, attempt errors and the
   * progress milestones recorded, throttled: not every live progress report) is replayed first, in `at` order,
   * then live updates follow, with no gap and no duplicate between them. The changes at exactly `since` are
   * sent again (several can share a millisecond): drop those you saw by `jobId` and `seq`. More than 10,000
   * recorded changes since then (or jobs changed; with `states` in the filter, the changes it picks, among at
   * most 100,000 changed jobs) is refused with REPLAY_TOO_LARGE (`extensions.since`: the instant the replay
   * would have started from): read `jobs` for the current state, then subscribe from a later instant. A
   * `since` more than a minute ahead of the server's clock or before year 1 is refused with BAD_USER_INPUT.
   * Changes published while the API's own NATS connection was down are read from PostgreSQL once it is back.
   * To resume after a lost connection, pass `lastSeenAt` instead of `since`: the replay starts 5 s before it
   * (a change that committed after the one you saw can carry an earlier `at`), and only the changes at or after
   * it count towards the 10,000 (those 5 s may hold 50,000 more): a short disconnect on a busy system is not
   * refused for the changes you had received already. Drop those you saw by `jobId` and `seq`.
   */
  jobUpdates: JobUpdate;
};


/** Live job updates over graphql-ws. */
export type SubscriptionJobProgressArgs = {
  after?: InputMaybe<Scalars['Int']['input']>;
  id: Scalars['ID']['input'];
};


/** Live job updates over graphql-ws. */
export type SubscriptionJobUpdatesArgs = {
  filter?: InputMaybe<JobUpdatesFilter>;
  lastSeenAt?: InputMaybe<Scalars['DateTime']['input']>;
  since?: InputMaybe<Scalars['DateTime']['input']>;
};

/** The result of `upsertSchedule`. */
export type UpsertSchedulePayload = {
  __typename?: 'UpsertSchedulePayload';
  /** Whether it is new (false: an existing one was replaced). */
  created: Scalars['Boolean']['output'];
  /** The schedule as stored; null when `userErrors` is not empty. */
  schedule?: Maybe<Schedule>;
  /**
   * Why nothing was stored: INVALID_SCHEDULE (cron, timezone), UNKNOWN_JOB_TYPE, INVALID_PAYLOAD, OUT_OF_RANGE
   * (name, maxAttempts, timeoutMs, startWithinMs, payload size, or a 101st schedule).
   */
  userErrors: Array<UserError>;
};

/** A problem with the input of a mutation; nothing was written. */
export type UserError = {
  __typename?: 'UserError';
  /** Machine-readable code: UNKNOWN_JOB_TYPE, INVALID_PAYLOAD, OUT_OF_RANGE, INVALID_STATE, ... */
  code: Scalars['String']['output'];
  /** Path to the offending input field, e.g. `["input", "payload", "ms"]`. */
  field?: Maybe<Array<Scalars['String']['output']>>;
  /** Human-readable explanation. */
  message: Scalars['String']['output'];
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

/** The secrets that sign one owner's webhooks: verify `Longrun-Signature-V2` (or `Longrun-Signature`) with them. */
export type WebhookSigning = {
  __typename?: 'WebhookSigning';
  /** The owner whose webhooks these secrets sign. */
  owner: Scalars['String']['output'];
  /**
   * OWNER scope, while the operator rotates the server's secret (`WEBHOOK_SECRET_PREVIOUS` set): the owner's
   * secret it replaces, the second signature in `Longrun-Signature-V2`. Null otherwise.
   */
  previousSecret?: Maybe<Scalars['String']['output']>;
  /** How this server signs webhooks. */
  scope: WebhookSecretScope;
  /**
   * OWNER scope: the secret that signs this owner's webhooks now (`Longrun-Signature`, first in
   * `Longrun-Signature-V2`). Null in SERVER scope (the operator holds `WEBHOOK_SECRET`) or when the server sends no
   * webhooks.
   */
  secret?: Maybe<Scalars['String']['output']>;
};

export type WithIndex<TObject> = TObject & Record<string, any>;
export type ResolversObject<TObject> = WithIndex<TObject>;

export type ResolverTypeWrapper<T> = Promise<T> | T;


export type ResolverWithResolve<TResult, TParent, TContext, TArgs> = {
  resolve: ResolverFn<TResult, TParent, TContext, TArgs>;
};
export type Resolver<TResult, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = ResolverFn<TResult, TParent, TContext, TArgs> | ResolverWithResolve<TResult, TParent, TContext, TArgs>;

export type ResolverFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => Promise<TResult> | TResult;

export type SubscriptionSubscribeFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => AsyncIterable<TResult> | Promise<AsyncIterable<TResult>>;

export type SubscriptionResolveFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

export interface SubscriptionSubscriberObject<TResult, TKey extends string, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<{ [key in TKey]: TResult }, TParent, TContext, TArgs>;
  resolve?: SubscriptionResolveFn<TResult, { [key in TKey]: TResult }, TContext, TArgs>;
}

export interface SubscriptionResolverObject<TResult, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<any, TParent, TContext, TArgs>;
  resolve: SubscriptionResolveFn<TResult, any, TContext, TArgs>;
}

export type SubscriptionObject<TResult, TKey extends string, TParent, TContext, TArgs> =
  | SubscriptionSubscriberObject<TResult, TKey, TParent, TContext, TArgs>
  | SubscriptionResolverObject<TResult, TParent, TContext, TArgs>;

export type SubscriptionResolver<TResult, TKey extends string, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> =
  | ((...args: any[]) => SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>)
  | SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>;

export type TypeResolveFn<TTypes, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (
  parent: TParent,
  context: TContext,
  info: GraphQLResolveInfo
) => Maybe<TTypes> | Promise<Maybe<TTypes>>;

export type IsTypeOfResolverFn<T = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (obj: T, context: TContext, info: GraphQLResolveInfo) => boolean | Promise<boolean>;

export type NextResolverFn<T> = () => Promise<T>;

export type DirectiveResolverFn<TResult = Record<PropertyKey, never>, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = (
  next: NextResolverFn<TResult>,
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;





/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = ResolversObject<{
  AttemptError: ResolverTypeWrapper<AttemptError>;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  CancelJobPayload: ResolverTypeWrapper<Omit<CancelJobPayload, 'job'> & { job?: Maybe<ResolversTypes['Job']> }>;
  CancelJobsInput: CancelJobsInput;
  CancelJobsPayload: ResolverTypeWrapper<Omit<CancelJobsPayload, 'jobs'> & { jobs: Array<ResolversTypes['Job']> }>;
  DateTime: ResolverTypeWrapper<Scalars['DateTime']['output']>;
  DeleteSchedulePayload: ResolverTypeWrapper<Omit<DeleteSchedulePayload, 'schedule'> & { schedule?: Maybe<ResolversTypes['Schedule']> }>;
  Float: ResolverTypeWrapper<Scalars['Float']['output']>;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  JSON: ResolverTypeWrapper<Scalars['JSON']['output']>;
  Job: ResolverTypeWrapper<JobRow>;
  JobConnection: ResolverTypeWrapper<Connection>;
  JobEdge: ResolverTypeWrapper<Omit<JobEdge, 'node'> & { node: ResolversTypes['Job'] }>;
  JobEvent: ResolverTypeWrapper<JobEvent>;
  JobFilter: JobFilter;
  JobState: JobState;
  JobType: ResolverTypeWrapper<JobTypeView>;
  JobTypePayload: ResolverTypeWrapper<Omit<JobTypePayload, 'jobType'> & { jobType?: Maybe<ResolversTypes['JobType']> }>;
  JobUpdate: ResolverTypeWrapper<JobUpdateMessage>;
  JobUpdatesFilter: JobUpdatesFilter;
  Mutation: ResolverTypeWrapper<Record<PropertyKey, never>>;
  NotificationChannel: NotificationChannel;
  NotificationDelivery: ResolverTypeWrapper<DeliveryToSend>;
  NotificationStatus: NotificationStatus;
  NotifyInput: NotifyInput;
  PageInfo: ResolverTypeWrapper<PageInfo>;
  PurgeJobsInput: PurgeJobsInput;
  PurgeJobsPayload: ResolverTypeWrapper<PurgeJobsPayload>;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  QueueStats: ResolverTypeWrapper<QueueStats>;
  RateLimit: ResolverTypeWrapper<RateLimit>;
  RateLimitInput: RateLimitInput;
  RescheduleJobPayload: ResolverTypeWrapper<Omit<RescheduleJobPayload, 'job'> & { job?: Maybe<ResolversTypes['Job']> }>;
  RetryJobPayload: ResolverTypeWrapper<Omit<RetryJobPayload, 'job'> & { job?: Maybe<ResolversTypes['Job']> }>;
  RetryJobsInput: RetryJobsInput;
  RetryJobsPayload: ResolverTypeWrapper<Omit<RetryJobsPayload, 'jobs'> & { jobs: Array<ResolversTypes['Job']> }>;
  RunSchedulePayload: ResolverTypeWrapper<Omit<RunSchedulePayload, 'job' | 'schedule'> & { job?: Maybe<ResolversTypes['Job']>, schedule?: Maybe<ResolversTypes['Schedule']> }>;
  Schedule: ResolverTypeWrapper<ScheduleRow>;
  ScheduleInput: ScheduleInput;
  ScheduleNotify: ResolverTypeWrapper<ScheduleNotify>;
  SchedulePayload: ResolverTypeWrapper<Omit<SchedulePayload, 'schedule'> & { schedule?: Maybe<ResolversTypes['Schedule']> }>;
  SkippedJob: ResolverTypeWrapper<SkippedJob>;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  SubmitJobInput: SubmitJobInput;
  SubmitJobPayload: ResolverTypeWrapper<Omit<SubmitJobPayload, 'job'> & { job?: Maybe<ResolversTypes['Job']> }>;
  SubmitJobsPayload: ResolverTypeWrapper<Omit<SubmitJobsPayload, 'jobs'> & { jobs?: Maybe<Array<ResolversTypes['Job']>> }>;
  Subscription: ResolverTypeWrapper<Record<PropertyKey, never>>;
  UpsertSchedulePayload: ResolverTypeWrapper<Omit<UpsertSchedulePayload, 'schedule'> & { schedule?: Maybe<ResolversTypes['Schedule']> }>;
  UserError: ResolverTypeWrapper<UserError>;
  WebhookSecretScope: WebhookSecretScope;
  WebhookSigning: ResolverTypeWrapper<WebhookSigning>;
}>;

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = ResolversObject<{
  AttemptError: AttemptError;
  Boolean: Scalars['Boolean']['output'];
  CancelJobPayload: Omit<CancelJobPayload, 'job'> & { job?: Maybe<ResolversParentTypes['Job']> };
  CancelJobsInput: CancelJobsInput;
  CancelJobsPayload: Omit<CancelJobsPayload, 'jobs'> & { jobs: Array<ResolversParentTypes['Job']> };
  DateTime: Scalars['DateTime']['output'];
  DeleteSchedulePayload: Omit<DeleteSchedulePayload, 'schedule'> & { schedule?: Maybe<ResolversParentTypes['Schedule']> };
  Float: Scalars['Float']['output'];
  ID: Scalars['ID']['output'];
  Int: Scalars['Int']['output'];
  JSON: Scalars['JSON']['output'];
  Job: JobRow;
  JobConnection: Connection;
  JobEdge: Omit<JobEdge, 'node'> & { node: ResolversParentTypes['Job'] };
  JobEvent: JobEvent;
  JobFilter: JobFilter;
  JobType: JobTypeView;
  JobTypePayload: Omit<JobTypePayload, 'jobType'> & { jobType?: Maybe<ResolversParentTypes['JobType']> };
  JobUpdate: JobUpdateMessage;
  JobUpdatesFilter: JobUpdatesFilter;
  Mutation: Record<PropertyKey, never>;
  NotificationDelivery: DeliveryToSend;
  NotifyInput: NotifyInput;
  PageInfo: PageInfo;
  PurgeJobsInput: PurgeJobsInput;
  PurgeJobsPayload: PurgeJobsPayload;
  Query: Record<PropertyKey, never>;
  QueueStats: QueueStats;
  RateLimit: RateLimit;
  RateLimitInput: RateLimitInput;
  RescheduleJobPayload: Omit<RescheduleJobPayload, 'job'> & { job?: Maybe<ResolversParentTypes['Job']> };
  RetryJobPayload: Omit<RetryJobPayload, 'job'> & { job?: Maybe<ResolversParentTypes['Job']> };
  RetryJobsInput: RetryJobsInput;
  RetryJobsPayload: Omit<RetryJobsPayload, 'jobs'> & { jobs: Array<ResolversParentTypes['Job']> };
  RunSchedulePayload: Omit<RunSchedulePayload, 'job' | 'schedule'> & { job?: Maybe<ResolversParentTypes['Job']>, schedule?: Maybe<ResolversParentTypes['Schedule']> };
  Schedule: ScheduleRow;
  ScheduleInput: ScheduleInput;
  ScheduleNotify: ScheduleNotify;
  SchedulePayload: Omit<SchedulePayload, 'schedule'> & { schedule?: Maybe<ResolversParentTypes['Schedule']> };
  SkippedJob: SkippedJob;
  String: Scalars['String']['output'];
  SubmitJobInput: SubmitJobInput;
  SubmitJobPayload: Omit<SubmitJobPayload, 'job'> & { job?: Maybe<ResolversParentTypes['Job']> };
  SubmitJobsPayload: Omit<SubmitJobsPayload, 'jobs'> & { jobs?: Maybe<Array<ResolversParentTypes['Job']>> };
  Subscription: Record<PropertyKey, never>;
  UpsertSchedulePayload: Omit<UpsertSchedulePayload, 'schedule'> & { schedule?: Maybe<ResolversParentTypes['Schedule']> };
  UserError: UserError;
  WebhookSigning: WebhookSigning;
}>;

export type AttemptErrorResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['AttemptError'] = ResolversParentTypes['AttemptError']> = ResolversObject<{
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  attempt?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  message?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type CancelJobPayloadResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['CancelJobPayload'] = ResolversParentTypes['CancelJobPayload']> = ResolversObject<{
  job?: Resolver<Maybe<ResolversTypes['Job']>, ParentType, ContextType>;
  userErrors?: Resolver<Array<ResolversTypes['UserError']>, ParentType, ContextType>;
}>;

export type CancelJobsPayloadResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['CancelJobsPayload'] = ResolversParentTypes['CancelJobsPayload']> = ResolversObject<{
  cancelRequested?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  cancelled?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  hasMore?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  jobs?: Resolver<Array<ResolversTypes['Job']>, ParentType, ContextType>;
  skipped?: Resolver<Array<ResolversTypes['SkippedJob']>, ParentType, ContextType>;
  submittedBefore?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  userErrors?: Resolver<Array<ResolversTypes['UserError']>, ParentType, ContextType>;
}>;

export interface DateTimeScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['DateTime'], any> {
  name: 'DateTime';
}

export type DeleteSchedulePayloadResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['DeleteSchedulePayload'] = ResolversParentTypes['DeleteSchedulePayload']> = ResolversObject<{
  schedule?: Resolver<Maybe<ResolversTypes['Schedule']>, ParentType, ContextType>;
  userErrors?: Resolver<Array<ResolversTypes['UserError']>, ParentType, ContextType>;
}>;

export interface JsonScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['JSON'], any> {
  name: 'JSON';
}

export type JobResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Job'] = ResolversParentTypes['Job']> = ResolversObject<{
  attemptErrors?: Resolver<Array<ResolversTypes['AttemptError']>, ParentType, ContextType>;
  attempts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  error?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  events?: Resolver<Array<ResolversTypes['JobEvent']>, ParentType, ContextType, Partial<JobEventsArgs>>;
  finishedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  idempotencyKey?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  maxAttempts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  nextAttemptAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  notifications?: Resolver<Array<ResolversTypes['NotificationDelivery']>, ParentType, ContextType>;
  payload?: Resolver<ResolversTypes['JSON'], ParentType, ContextType>;
  progress?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  progressMessage?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  result?: Resolver<Maybe<ResolversTypes['JSON']>, ParentType, ContextType>;
  runAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  seq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  startBy?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  startedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  state?: Resolver<ResolversTypes['JobState'], ParentType, ContextType>;
  type?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type JobConnectionResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['JobConnection'] = ResolversParentTypes['JobConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['JobEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
  totalCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type JobEdgeResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['JobEdge'] = ResolversParentTypes['JobEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Job'], ParentType, ContextType>;
}>;

export type JobEventResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['JobEvent'] = ResolversParentTypes['JobEvent']> = ResolversObject<{
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  attempt?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  message?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  progress?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  seq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  state?: Resolver<ResolversTypes['JobState'], ParentType, ContextType>;
}>;

export type JobTypeResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['JobType'] = ResolversParentTypes['JobType']> = ResolversObject<{
  defaultMaxAttempts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  description?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  maxAttempts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  paused?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  pausedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  payloadSchema?: Resolver<ResolversTypes['JSON'], ParentType, ContextType>;
  rateLimit?: Resolver<Maybe<ResolversTypes['RateLimit']>, ParentType, ContextType>;
  timeoutMs?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type JobTypePayloadResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['JobTypePayload'] = ResolversParentTypes['JobTypePayload']> = ResolversObject<{
  jobType?: Resolver<Maybe<ResolversTypes['JobType']>, ParentType, ContextType>;
  userErrors?: Resolver<Array<ResolversTypes['UserError']>, ParentType, ContextType>;
}>;

export type JobUpdateResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['JobUpdate'] = ResolversParentTypes['JobUpdate']> = ResolversObject<{
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  attempt?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  error?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  jobId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  message?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  progress?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  result?: Resolver<Maybe<ResolversTypes['JSON']>, ParentType, ContextType>;
  seq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  state?: Resolver<ResolversTypes['JobState'], ParentType, ContextType>;
  type?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type MutationResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Mutation'] = ResolversParentTypes['Mutation']> = ResolversObject<{
  cancelJob?: Resolver<ResolversTypes['CancelJobPayload'], ParentType, ContextType, RequireFields<MutationCancelJobArgs, 'id'>>;
  cancelJobs?: Resolver<ResolversTypes['CancelJobsPayload'], ParentType, ContextType, RequireFields<MutationCancelJobsArgs, 'input'>>;
  deleteSchedule?: Resolver<ResolversTypes['DeleteSchedulePayload'], ParentType, ContextType, RequireFields<MutationDeleteScheduleArgs, 'name'>>;
  pauseJobType?: Resolver<ResolversTypes['JobTypePayload'], ParentType, ContextType, RequireFields<MutationPauseJobTypeArgs, 'type'>>;
  pauseSchedule?: Resolver<ResolversTypes['SchedulePayload'], ParentType, ContextType, RequireFields<MutationPauseScheduleArgs, 'name'>>;
  purgeJobs?: Resolver<ResolversTypes['PurgeJobsPayload'], ParentType, ContextType, RequireFields<MutationPurgeJobsArgs, 'input'>>;
  rescheduleJob?: Resolver<ResolversTypes['RescheduleJobPayload'], ParentType, ContextType, RequireFields<MutationRescheduleJobArgs, 'id'>>;
  resumeJobType?: Resolver<ResolversTypes['JobTypePayload'], ParentType, ContextType, RequireFields<MutationResumeJobTypeArgs, 'type'>>;
  resumeSchedule?: Resolver<ResolversTypes['SchedulePayload'], ParentType, ContextType, RequireFields<MutationResumeScheduleArgs, 'name'>>;
  retryJob?: Resolver<ResolversTypes['RetryJobPayload'], ParentType, ContextType, RequireFields<MutationRetryJobArgs, 'id'>>;
  retryJobs?: Resolver<ResolversTypes['RetryJobsPayload'], ParentType, ContextType, RequireFields<MutationRetryJobsArgs, 'input'>>;
  runSchedule?: Resolver<ResolversTypes['RunSchedulePayload'], ParentType, ContextType, RequireFields<MutationRunScheduleArgs, 'name'>>;
  setJobTypeRateLimit?: Resolver<ResolversTypes['JobTypePayload'], ParentType, ContextType, RequireFields<MutationSetJobTypeRateLimitArgs, 'type'>>;
  submitJob?: Resolver<ResolversTypes['SubmitJobPayload'], ParentType, ContextType, RequireFields<MutationSubmitJobArgs, 'input'>>;
  submitJobs?: Resolver<ResolversTypes['SubmitJobsPayload'], ParentType, ContextType, RequireFields<MutationSubmitJobsArgs, 'inputs'>>;
  upsertSchedule?: Resolver<ResolversTypes['UpsertSchedulePayload'], ParentType, ContextType, RequireFields<MutationUpsertScheduleArgs, 'input'>>;
}>;

export type NotificationDeliveryResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['NotificationDelivery'] = ResolversParentTypes['NotificationDelivery']> = ResolversObject<{
  attempts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  channel?: Resolver<ResolversTypes['NotificationChannel'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  finishedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  jobState?: Resolver<ResolversTypes['JobState'], ParentType, ContextType>;
  lastError?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  nextAttemptAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  status?: Resolver<ResolversTypes['NotificationStatus'], ParentType, ContextType>;
  target?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type PageInfoResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['PageInfo'] = ResolversParentTypes['PageInfo']> = ResolversObject<{
  endCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hasNextPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  hasPreviousPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  startCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type PurgeJobsPayloadResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['PurgeJobsPayload'] = ResolversParentTypes['PurgeJobsPayload']> = ResolversObject<{
  deadLetterCopiesRemoved?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  hasMore?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  purged?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  userErrors?: Resolver<Array<ResolversTypes['UserError']>, ParentType, ContextType>;
}>;

export type QueryResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query']> = ResolversObject<{
  deadLetters?: Resolver<ResolversTypes['JobConnection'], ParentType, ContextType, Partial<QueryDeadLettersArgs>>;
  job?: Resolver<Maybe<ResolversTypes['Job']>, ParentType, ContextType, RequireFields<QueryJobArgs, 'id'>>;
  jobTypes?: Resolver<Array<ResolversTypes['JobType']>, ParentType, ContextType>;
  jobs?: Resolver<ResolversTypes['JobConnection'], ParentType, ContextType, Partial<QueryJobsArgs>>;
  queueStats?: Resolver<Array<ResolversTypes['QueueStats']>, ParentType, ContextType>;
  schedules?: Resolver<Array<ResolversTypes['Schedule']>, ParentType, ContextType, Partial<QuerySchedulesArgs>>;
  webhookSigning?: Resolver<ResolversTypes['WebhookSigning'], ParentType, ContextType, Partial<QueryWebhookSigningArgs>>;
}>;

export type QueueStatsResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['QueueStats'] = ResolversParentTypes['QueueStats']> = ResolversObject<{
  deadLetters?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  failed?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  oldestQueuedAgeSeconds?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  paused?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  queued?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  rateLimit?: Resolver<Maybe<ResolversTypes['RateLimit']>, ParentType, ContextType>;
  retrying?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  running?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  scheduled?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  throughputLastMinute?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  type?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type RateLimitResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['RateLimit'] = ResolversParentTypes['RateLimit']> = ResolversObject<{
  burst?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  max?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  overridden?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  perMs?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type RescheduleJobPayloadResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['RescheduleJobPayload'] = ResolversParentTypes['RescheduleJobPayload']> = ResolversObject<{
  job?: Resolver<Maybe<ResolversTypes['Job']>, ParentType, ContextType>;
  userErrors?: Resolver<Array<ResolversTypes['UserError']>, ParentType, ContextType>;
}>;

export type RetryJobPayloadResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['RetryJobPayload'] = ResolversParentTypes['RetryJobPayload']> = ResolversObject<{
  job?: Resolver<Maybe<ResolversTypes['Job']>, ParentType, ContextType>;
  userErrors?: Resolver<Array<ResolversTypes['UserError']>, ParentType, ContextType>;
}>;

export type RetryJobsPayloadResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['RetryJobsPayload'] = ResolversParentTypes['RetryJobsPayload']> = ResolversObject<{
  failedBefore?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  hasMore?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  jobs?: Resolver<Array<ResolversTypes['Job']>, ParentType, ContextType>;
  retried?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  skipped?: Resolver<Array<ResolversTypes['SkippedJob']>, ParentType, ContextType>;
  userErrors?: Resolver<Array<ResolversTypes['UserError']>, ParentType, ContextType>;
}>;

export type RunSchedulePayloadResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['RunSchedulePayload'] = ResolversParentTypes['RunSchedulePayload']> = ResolversObject<{
  job?: Resolver<Maybe<ResolversTypes['Job']>, ParentType, ContextType>;
  schedule?: Resolver<Maybe<ResolversTypes['Schedule']>, ParentType, ContextType>;
  userErrors?: Resolver<Array<ResolversTypes['UserError']>, ParentType, ContextType>;
}>;

export type ScheduleResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Schedule'] = ResolversParentTypes['Schedule']> = ResolversObject<{
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  cron?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  lastJob?: Resolver<Maybe<ResolversTypes['Job']>, ParentType, ContextType>;
  lastRunAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  maxAttempts?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  nextRunAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  notify?: Resolver<Array<ResolversTypes['ScheduleNotify']>, ParentType, ContextType>;
  owner?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  paused?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  payload?: Resolver<ResolversTypes['JSON'], ParentType, ContextType>;
  runs?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  startWithinMs?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  timeoutMs?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  timezone?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  type?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  updatedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
}>;

export type ScheduleNotifyResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['ScheduleNotify'] = ResolversParentTypes['ScheduleNotify']> = ResolversObject<{
  channel?: Resolver<ResolversTypes['NotificationChannel'], ParentType, ContextType>;
  on?: Resolver<Array<ResolversTypes['JobState']>, ParentType, ContextType>;
  target?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type SchedulePayloadResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['SchedulePayload'] = ResolversParentTypes['SchedulePayload']> = ResolversObject<{
  schedule?: Resolver<Maybe<ResolversTypes['Schedule']>, ParentType, ContextType>;
  userErrors?: Resolver<Array<ResolversTypes['UserError']>, ParentType, ContextType>;
}>;

export type SkippedJobResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['SkippedJob'] = ResolversParentTypes['SkippedJob']> = ResolversObject<{
  code?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  message?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type SubmitJobPayloadResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['SubmitJobPayload'] = ResolversParentTypes['SubmitJobPayload']> = ResolversObject<{
  job?: Resolver<Maybe<ResolversTypes['Job']>, ParentType, ContextType>;
  userErrors?: Resolver<Array<ResolversTypes['UserError']>, ParentType, ContextType>;
}>;

export type SubmitJobsPayloadResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['SubmitJobsPayload'] = ResolversParentTypes['SubmitJobsPayload']> = ResolversObject<{
  jobs?: Resolver<Maybe<Array<ResolversTypes['Job']>>, ParentType, ContextType>;
  userErrors?: Resolver<Array<ResolversTypes['UserError']>, ParentType, ContextType>;
}>;

export type SubscriptionResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Subscription'] = ResolversParentTypes['Subscription']> = ResolversObject<{
  jobProgress?: SubscriptionResolver<ResolversTypes['JobUpdate'], "jobProgress", ParentType, ContextType, RequireFields<SubscriptionJobProgressArgs, 'id'>>;
  jobUpdates?: SubscriptionResolver<ResolversTypes['JobUpdate'], "jobUpdates", ParentType, ContextType, Partial<SubscriptionJobUpdatesArgs>>;
}>;

export type UpsertSchedulePayloadResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['UpsertSchedulePayload'] = ResolversParentTypes['UpsertSchedulePayload']> = ResolversObject<{
  created?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  schedule?: Resolver<Maybe<ResolversTypes['Schedule']>, ParentType, ContextType>;
  userErrors?: Resolver<Array<ResolversTypes['UserError']>, ParentType, ContextType>;
}>;

export type UserErrorResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['UserError'] = ResolversParentTypes['UserError']> = ResolversObject<{
  code?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  field?: Resolver<Maybe<Array<ResolversTypes['String']>>, ParentType, ContextType>;
  message?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type WebhookSigningResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['WebhookSigning'] = ResolversParentTypes['WebhookSigning']> = ResolversObject<{
  owner?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  previousSecret?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  scope?: Resolver<ResolversTypes['WebhookSecretScope'], ParentType, ContextType>;
  secret?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type Resolvers<ContextType = GraphQLContext> = ResolversObject<{
  AttemptError?: AttemptErrorResolvers<ContextType>;
  CancelJobPayload?: CancelJobPayloadResolvers<ContextType>;
  CancelJobsPayload?: CancelJobsPayloadResolvers<ContextType>;
  DateTime?: GraphQLScalarType;
  DeleteSchedulePayload?: DeleteSchedulePayloadResolvers<ContextType>;
  JSON?: GraphQLScalarType;
  Job?: JobResolvers<ContextType>;
  JobConnection?: JobConnectionResolvers<ContextType>;
  JobEdge?: JobEdgeResolvers<ContextType>;
  JobEvent?: JobEventResolvers<ContextType>;
  JobType?: JobTypeResolvers<ContextType>;
  JobTypePayload?: JobTypePayloadResolvers<ContextType>;
  JobUpdate?: JobUpdateResolvers<ContextType>;
  Mutation?: MutationResolvers<ContextType>;
  NotificationDelivery?: NotificationDeliveryResolvers<ContextType>;
  PageInfo?: PageInfoResolvers<ContextType>;
  PurgeJobsPayload?: PurgeJobsPayloadResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  QueueStats?: QueueStatsResolvers<ContextType>;
  RateLimit?: RateLimitResolvers<ContextType>;
  RescheduleJobPayload?: RescheduleJobPayloadResolvers<ContextType>;
  RetryJobPayload?: RetryJobPayloadResolvers<ContextType>;
  RetryJobsPayload?: RetryJobsPayloadResolvers<ContextType>;
  RunSchedulePayload?: RunSchedulePayloadResolvers<ContextType>;
  Schedule?: ScheduleResolvers<ContextType>;
  ScheduleNotify?: ScheduleNotifyResolvers<ContextType>;
  SchedulePayload?: SchedulePayloadResolvers<ContextType>;
  SkippedJob?: SkippedJobResolvers<ContextType>;
  SubmitJobPayload?: SubmitJobPayloadResolvers<ContextType>;
  SubmitJobsPayload?: SubmitJobsPayloadResolvers<ContextType>;
  Subscription?: SubscriptionResolvers<ContextType>;
  UpsertSchedulePayload?: UpsertSchedulePayloadResolvers<ContextType>;
  UserError?: UserErrorResolvers<ContextType>;
  WebhookSigning?: WebhookSigningResolvers<ContextType>;
}>;

