/**
 * The job state machine, in one place.
 *
 * Glossary
 * - job: one unit of work of a registered type, stored in PostgreSQL (the source of truth).
 * - attempt: one run of the handler. `attempts` counts the claims in the current attempt series.
 * - attempt series: the attempts between a submit (or a `retryJob` replay) and a terminal state.
 * - message: the JetStream work-queue message that carries a job to a worker.
 * - dead letter: a FAILED job whose message was copied to the dead-letter stream.
 */

export const JobState = {
  /** Accepted and waiting for a worker. */
  QUEUED: 'QUEUED',
  /** A worker claimed it and is running an attempt. */
  RUNNING: 'RUNNING',
  /** An attempt failed; the message was nak'ed with a delay and another attempt is due. */
  RETRYING: 'RETRYING',
  /** The handler returned; terminal. */
  SUCCEEDED: 'SUCCEEDED',
  /** A permanent error, the attempts ran out, or the deliveries ran out; terminal, dead-lettered. */
  FAILED: 'FAILED',
  /** A user cancelled it; terminal. */
  CANCELLED: 'CANCELLED',
} as const;
export type JobState = (typeof JobState)[keyof typeof JobState];

/** Every state, in lifecycle order (also the PostgreSQL enum). */
export const JOB_STATES = Object.values(JobState) as [JobState, ...JobState[]];

/** States a job never leaves (except FAILED, through an explicit `retryJob` replay). */
export const TERMINAL_STATES: readonly JobState[] = [JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED];

export const isTerminal = (s: JobState): boolean => TERMINAL_STATES.includes(s);

/**
 * Allowed transitions: `from` states for each target. The guarded SQL of `db/transition.ts` (`transition()`) uses this table,
 * so a late or duplicate event can never move a job backwards.
 */
export const ALLOWED_FROM = {
  /** claim: a worker starts an attempt (RUNNING → RUNNING when a dead worker's lease expired). */
  RUNNING: [JobState.QUEUED, JobState.RETRYING, JobState.RUNNING],
  /** a failed attempt with attempts left; or a worker handing back its job on shutdown (→ QUEUED). */
  RETRYING: [JobState.RUNNING],
  QUEUED: [JobState.RUNNING, JobState.FAILED],
  SUCCEEDED: [JobState.RUNNING],
  FAILED: [JobState.QUEUED, JobState.RUNNING, JobState.RETRYING],
  CANCELLED: [JobState.QUEUED, JobState.RETRYING, JobState.RUNNING],
} as const satisfies Record<JobState, readonly JobState[]>;

/**
 * The waiting states whose time `rescheduleJob` moves, the state unchanged: QUEUED → QUEUED (`runAt`),
 * RETRYING → RETRYING (`nextAttemptAt`). Kept out of ALLOWED_FROM: there, QUEUED → QUEUED or RETRYING →
 * RETRYING would let a worker's late or repeated hand-back or retry write apply to a job already in its target.
 */
export const RESCHEDULABLE_STATES = [JobState.QUEUED, JobState.RETRYING] as const;

/** Whether `from → to` is allowed. */
export const canTransition = (from: JobState, to: JobState): boolean =>
  (ALLOWED_FROM[to] as readonly JobState[]).includes(from);
