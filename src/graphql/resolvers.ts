/**
 * Thin resolvers: each calls one domain function with the context's viewer.
 */
import { DateTimeResolver } from 'graphql-scalars';
import { cancelJob, cancelJobs, rescheduleJob } from '../jobs/commands.js';
import { canSee } from '../jobs/deps.js';
import { pauseJobType, jobTypes, resumeJobType } from '../jobs/pauses.js';
import { setJobTypeRateLimit } from '../jobs/rate-limit-overrides.js';
import { deadLetterConnection, eventsPage, findJob, jobConnection } from '../jobs/queries.js';
import { queueStats } from '../jobs/queue-stats.js';
import { retryJob, retryJobs } from '../jobs/replay.js';
import { purgeJobs } from '../jobs/retention.js';
import { deleteSchedule, runScheduleNow, schedules, setSchedulePaused, upsertSchedule } from '../jobs/schedules.js';
import { submitBatch, submitOne } from '../jobs/submit.js';
import type { JobUpdateMessage } from '../messaging/messages.js';
import { webhookSigning } from '../notifications/queries.js';
import { openJobProgress } from '../progress/job-progress.js';
import { openJobUpdates } from '../progress/job-updates.js';
import type { Resolvers } from './generated/resolvers-types.js';
import { JSONScalar } from './json-scalar.js';
import { chargedInputs } from './submit-rate.js';

const toDate = (iso: string) => new Date(iso);

export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  JSON: JSONScalar,
  Query: {
    job: (_, { id }, ctx) => findJob(ctx.deps, ctx.viewer, id),
    jobs: (_, args, ctx) => jobConnection(ctx.deps, ctx.viewer, args),
    deadLetters: (_, args, ctx) => deadLetterConnection(ctx.deps, ctx.viewer, args),
    queueStats: (_, __, ctx) => queueStats(ctx.deps, ctx.viewer),
    jobTypes: (_, __, ctx) => jobTypes(ctx.deps),
    webhookSigning: (_, { owner }, ctx) => webhookSigning(ctx.deps, ctx.viewer, owner),
    schedules: (_, { owner }, ctx) => schedules(ctx.deps, ctx.viewer, owner),
  },
  JobType: {
    paused: async (t) => (await t.pause()) !== undefined,
    pausedAt: async (t) => (await t.pause())?.pausedAt ?? null,
    rateLimit: (t) => t.rateLimit(),
  },
  Mutation: {
    submitJob: async (_, { input }, ctx) => {
      const r = await submitOne(ctx.deps, ctx.viewer, { ...input, traceparent: ctx.traceparent }, ctx.payloads);
      if (r.refused) ctx.submits.refund(1); // refused, nothing written: not counted on the submit rate
      return { job: r.jobs?.[0] ?? null, userErrors: r.userErrors };
    },
    submitJobs: async (_, { inputs }, ctx) => {
      const r = await submitBatch(ctx.deps, ctx.viewer, inputs.map((input) => ({ ...input, traceparent: ctx.traceparent })), ctx.payloads);
      if (r.refused) ctx.submits.refund(chargedInputs(inputs.length)); // all or nothing: nothing of it counted
      return r;
    },
    cancelJob: (_, { id }, ctx) => cancelJob(ctx.deps, ctx.viewer, id),
    cancelJobs: (_, { input }, ctx) => cancelJobs(ctx.deps, ctx.viewer, input),
    rescheduleJob: (_, { id, runAt }, ctx) => rescheduleJob(ctx.deps, ctx.viewer, id, runAt),
    retryJob: (_, { id, timeoutMs }, ctx) => retryJob(ctx.deps, ctx.viewer, id, timeoutMs),
    retryJobs: (_, { input }, ctx) => retryJobs(ctx.deps, ctx.viewer, input),
    purgeJobs: (_, { input }, ctx) => purgeJobs(ctx.deps, ctx.viewer, input),
    pauseJobType: (_, { type }, ctx) => pauseJobType(ctx.deps, ctx.viewer, type),
    resumeJobType: (_, { type }, ctx) => resumeJobType(ctx.deps, ctx.viewer, type),
    setJobTypeRateLimit: (_, { type, rateLimit }, ctx) => setJobTypeRateLimit(ctx.deps, ctx.viewer, type, rateLimit),
    upsertSchedule: (_, { input }, ctx) => upsertSchedule(ctx.deps, ctx.viewer, input, ctx.payloads),
    deleteSchedule: (_, { name, owner }, ctx) => deleteSchedule(ctx.deps, ctx.viewer, name, owner),
    pauseSchedule: (_, { name, owner }, ctx) => setSchedulePaused(ctx.deps, ctx.viewer, name, true, owner),
    resumeSchedule: (_, { name, owner }, ctx) => setSchedulePaused(ctx.deps, ctx.viewer, name, false, owner),
    runSchedule: (_, { name, owner }, ctx) => runScheduleNow(ctx.deps, ctx.viewer, name, owner),
  },
  Schedule: {
    nextRunAt: (s) => (s.paused ? null : s.nextRunAt),
    notify: (s) => s.notify.map((n) => ({ channel: n.channel, target: n.target, on: n.onStates })),
    lastJob: (s, _, ctx) => (s.lastJobId ? findJob(ctx.deps, ctx.viewer, s.lastJobId) : null),
  },
  Subscription: {
    jobProgress: {
      subscribe: (_, { id, after }, ctx) =>
        openJobProgress(
          { sql: ctx.deps.sql, hub: ctx.hub, names: ctx.deps.names, readHistory: ctx.deps.readHistory },
          id,
          after ?? null,
          (job) => canSee(ctx.viewer, job),
        ),
      resolve: (u: JobUpdateMessage) => u,
    },
    jobUpdates: {
      subscribe: (_, { filter, since, lastSeenAt }, ctx) =>
        openJobUpdates(
          {
            sql: ctx.deps.sql,
            hub: ctx.hub,
            names: ctx.deps.names,
            knownTypes: new Set(ctx.deps.types.keys()),
            shareReads: ctx.deps.shareReads,
            rereadGroups: ctx.deps.rereadGroups,
          },
          filter ?? {},
          ctx.viewer.admin ? null : ctx.viewer.owner,
          since ?? null,
          lastSeenAt ?? null,
        ),
      resolve: (u: JobUpdateMessage) => u,
    },
  },
  JobConnection: {
    totalCount: (c) => c.totalCount(),
  },
  JobUpdate: {
    at: (u) => toDate(u.at),
    result: (u) => u.result ?? null,
    error: (u) => u.error ?? null,
  },
  Job: {
    // Both as of this read of the job: no row after its seq (an attempt that ended since is not in them).
    attemptErrors: async (job, _, ctx) =>
      (await ctx.attemptErrors(job.id))
        .filter((e) => e.seq <= job.seq)
        .map((e) => ({ attempt: e.attempt, message: e.error ?? e.message ?? 'error', at: e.at })),
    events: (job, args, ctx) => ctx.events(job, eventsPage(args)),
    notifications: (job, _, ctx) => ctx.notifications(job.id),
    idempotencyKey: async (job, _, ctx) => (await ctx.idempotencyKeys(job.id))[0]?.idempotencyKey ?? null,
    startBy: async (job, _, ctx) => (await ctx.startBy(job.id))[0]?.startBy ?? null,
  },
};
