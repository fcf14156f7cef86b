/**
 * Every Prometheus metric longrun exports, in one place. Counters, histograms and the gauge of this process's
 * abandoned handlers live in this process-wide registry and are moved where their event happens (one place
 * each); gauges that describe shared state (queue depth, dead letters, outbox) are read at scrape time
 * (`scrape.ts`).
 *
 * Where each is counted:
 * - jobs submitted: `jobs/submit.ts` after the insert commits;
 * - schedule runs (with a job, or skipped: none made): `jobs/schedules.ts` `runDueSchedules`, after its commit;
 * - claims (queue wait), retries, terminal states (finished, duration): `observeTransition`, called by the
 *   one function that writes every state change (`db/transition.ts` `transition()`);
 * - redeliveries: the worker, when JetStream delivers a job message again;
 * - notification deliveries: the notifier;
 * - progress reports coalesced (latest wins for a subscriber that is behind): `progress/inbox.ts`;
 * - jobs purged (retention, `purgeJobs`): `jobs/retention.ts`, after the delete commits;
 * - rate-limit waits: the worker, `workers/rate-limit.ts`, each time a pull loop finds no token;
 * - abandoned handlers (up when an aborted attempt's handler is still running, down when it settles): the
 *   worker, `workers/abandoned.ts`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobRow } from '../db/schema.js';

/** The process-wide registry (process defaults included). */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const seconds = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600];

export const jobsSubmitted = new Counter({
  name: 'longrun_jobs_submitted_total',
  help: 'Jobs accepted by submitJob (idempotent repeats not counted).',
  labelNames: ['type'],
  registers: [registry],
});

export const scheduleRuns = new Counter({
  name: 'longrun_schedule_runs_total',
  help: "Schedule runs that submitted their job (as a schedule's runs count), by the job's type.",
  labelNames: ['type'],
  registers: [registry],
});

export const scheduleRunsSkipped = new Counter({
  name: 'longrun_schedule_runs_skipped_total',
  help: "Schedule runs that made no job (the schedule's type unknown to this server, or its cron refused now), by the schedule's type.",
  labelNames: ['type'],
  registers: [registry],
});

export const jobsFinished = new Counter({
  name: 'longrun_jobs_finished_total',
  help: 'Jobs that reached a terminal state, by outcome (succeeded, failed, cancelled).',
  labelNames: ['type', 'outcome'],
  registers: [registry],
});

export const jobDuration = new Histogram({
  name: 'longrun_job_duration_seconds',
  help: 'Time from submit to terminal state.',
  labelNames: ['type', 'outcome'],
  buckets: seconds,
  registers: [registry],
});

export const jobQueueWait = new Histogram({
  name: 'longrun_job_queue_wait_seconds',
  help: 'Time from submit (a scheduled job: from its runAt) to the first attempt starting.',
  labelNames: ['type'],
  buckets: seconds,
  registers: [registry],
});

export const jobRetries = new Counter({
  name: 'longrun_job_retries_total',
  help: 'Failed attempts followed by another attempt (RETRYING).',
  labelNames: ['type'],
  registers: [registry],
});

export const redeliveries = new Counter({
  name: 'longrun_redeliveries_total',
  help: 'Job messages JetStream delivered again (nak, AckWait expiry, worker crash).',
  labelNames: ['type'],
  registers: [registry],
});

export const notificationDeliveries = new Counter({
  name: 'longrun_notification_deliveries_total',
  help: 'Notification send attempts by channel and outcome (sent, retried, failed = dead-lettered).',
  labelNames: ['channel', 'outcome'],
  registers: [registry],
});

export const progressCoalesced = new Counter({
  name: 'longrun_progress_coalesced_total',
  help: 'jobProgress progress reports not sent because a newer report of the same attempt replaced them while the subscriber was behind (latest wins).',
  registers: [registry],
});

export const jobsPurged = new Counter({
  name: 'longrun_jobs_purged_total',
  help: 'Finished jobs deleted by retention or purgeJobs, with their history, notifications and dead-letter copies.',
  labelNames: ['type', 'state'],
  registers: [registry],
});

export const rateLimitWaits = new Counter({
  name: 'longrun_rate_limit_waits_total',
  help: "Times a worker's pull loop found its rate-limited type's tokens used up and waited for one to free.",
  labelNames: ['type'],
  registers: [registry],
});

export const abandonedHandlers = new Gauge({
  name: 'longrun_worker_abandoned_handlers',
  help: 'Handlers of this worker process whose attempt was aborted (timeout, cancel, lost lease, shutdown) but which are still running: they ignore ctx.signal and are not counted in WORKER_CONCURRENCY.',
  labelNames: ['type'],
  registers: [registry],
});

/** When a job began to wait for a worker: its submit, or a scheduled job's `runAt` (a later one). */
const waitingSince = (job: Pick<ObservedJob, 'createdAt' | 'runAt'>): Date =>
  job.runAt && job.runAt > job.createdAt ? job.runAt : job.createdAt;

const since = (from: Date, to: Date | null) => Math.max(0, ((to ?? new Date()).getTime() - from.getTime()) / 1000);

/** What the metrics read of a changed job: a claim's row has its start and runAt, an `onlyUpdate` one's not. */
type ObservedJob = Pick<JobRow, 'type' | 'state' | 'seq' | 'createdAt' | 'finishedAt'> & Partial<Pick<JobRow, 'startedAt' | 'runAt'>>;

/** Counts a recorded state change (called with the row every guarded transition returns). */
export function observeTransition(job: ObservedJob): void {
  switch (job.state) {
    case 'RUNNING':
      // The job's first claim ever: the submit's change was its only one (seq 1), so this one is seq 2. A job
      // handed back by a worker (stopping, or its type paused), or replayed by retryJob, starts at attempt 1 again but is not counted;
      // nor is one rescheduled before its first claim (its reschedule took seq 2).
      if (job.seq === 2 && job.startedAt) jobQueueWait.observe({ type: job.type }, since(waitingSince(job), job.startedAt));
      return;
    case 'RETRYING':
      jobRetries.inc({ type: job.type });
      return;
    case 'SUCCEEDED':
    case 'FAILED':
    case 'CANCELLED': {
      const labels = { type: job.type, outcome: job.state.toLowerCase() };
      jobsFinished.inc(labels);
      jobDuration.observe(labels, since(job.createdAt, job.finishedAt));
      return;
    }
    case 'QUEUED':
      return;
  }
}
