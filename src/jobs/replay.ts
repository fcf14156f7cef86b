/**
 * Replaying FAILED jobs: `retryJob` (one) and `retryJobs` (by ids, or a filter a page at a time). Both go
 * through `replay`: one transaction locks the jobs, checks each (FAILED, a type this server has, a
 * `timeoutMs` within its type's range) and replays them (`replayFailedJobs`: a new attempt series, an outbox
 * entry and a history row each, the dead-letter copy noted stale); after the commit each copy is removed from
 * the dead-letter stream, the outbox entries published and the updates sent. Once the replay has committed,
 * the answer is the replayed jobs, whatever fails after it: the dead-letter sweep and the outbox relay finish
 * that tidying.
 */
import { databaseNow, preparing, type Sql } from '../db/client.js';
import { getJob } from '../db/jobs.js';
import { failedJobsLeft, lockFailedJobs, lockJobsById, replayFailedJobs, type FailedJobFilter, type ReplayCandidate } from '../db/replay.js';
import type { JobRow } from '../db/schema.js';
import { NotFoundError, UserErrorCode, type UserError } from '../errors.js';
import { removeDeadLetterCopies } from '../messaging/dead-letters.js';
import { publishUpdate, updateFromJob } from '../progress/updates.js';
import { TIMEOUT_RANGE, timeoutProblem } from './definition.js';
import { canSee, isUuid, type JobDeps, type Viewer } from './deps.js';
import { checkYearOne } from './queries.js';

/** Most jobs one `retryJobs` call replays (and most ids it takes). */
export const MAX_RETRY_BATCH = 1000;

/** An id `retryJobs` did not replay, and why (schema: SkippedJob). */
export interface SkippedJob {
  id: string;
  code: 'NOT_FOUND' | UserErrorCode;
  message: string;
}

/** What a replay takes: these ids, or up to `limit` FAILED jobs that match a filter. */
type Selection =
  | { ids: readonly string[] }
  | { types: readonly string[]; failedAfter: Date | null; failedBefore: Date | null; onlyDeadLettered: boolean; limit: number };

interface Replayed {
  /** The replayed jobs: by ids in the order given, by filter those that failed first first. */
  jobs: JobRow[];
  skipped: SkippedJob[];
  hasMore: boolean;
  /** By filter: the upper bound of `finished_at` used. */
  failedBefore: Date | null;
  /** `timeoutMs` is outside the range of a chosen job's type: nothing was replayed. */
  timeoutRefused: string | null;
}

const notFailed = (state: string) => `a ${state} job cannot be retried (only FAILED jobs can)`;

/** Why this locked job cannot be replayed, or null. */
function refusal(deps: Pick<JobDeps, 'types'>, job: ReplayCandidate): Omit<SkippedJob, 'id'> | null {
  if (job.state !== 'FAILED') return { code: UserErrorCode.INVALID_STATE, message: notFailed(job.state) };
  // Removed or renamed since it ran: replayed, it would wait QUEUED for ever on a subject no worker pulls.
  if (!deps.types.has(job.type)) {
    return { code: UserErrorCode.UNKNOWN_JOB_TYPE, message: `a ${job.type} job cannot be retried: this server has no job type ${JSON.stringify(job.type)}` };
  }
  return null;
}

/** Locks what the selection names; by ids, the ones that cannot be replayed are set aside as skipped. */
async function choose(deps: JobDeps, tx: Sql, owner: string | null, sel: Selection) {
  if ('ids' in sel) {
    const locked = new Map((await lockJobsById(tx, sel.ids.filter(isUuid), owner)).map((j) => [j.id, j]));
    const chosen: ReplayCandidate[] = [];
    const skipped: SkippedJob[] = [];
    for (const id of sel.ids) {
      const job = isUuid(id) ? locked.get(id.toLowerCase()) : undefined;
      const why = job ? refusal(deps, job) : { code: 'NOT_FOUND' as const, message: 'job not found' };
      if (why) skipped.push({ id, ...why });
      else chosen.push(job!);
    }
    return { chosen, skipped, failedBefore: null as Date | null, filter: null };
  }
  // Never past now: a later bound would let the next page take a job this one replayed that failed again since.
  const now = await databaseNow(tx);
  const failedBefore = sel.failedBefore && sel.failedBefore < now ? sel.failedBefore : now;
  const filter: FailedJobFilter = {
    owner,
    types: sel.types,
    failedAfter: sel.failedAfter?.toISOString() ?? null,
    failedBefore: failedBefore.toISOString(),
    onlyDeadLettered: sel.onlyDeadLettered,
  };
  return { chosen: await lockFailedJobs(tx, filter, sel.limit), skipped: [] as SkippedJob[], failedBefore, filter };
}

/** The one replay of FAILED jobs that `retryJob` and `retryJobs` share (see the top of this file). */
async function replay(deps: JobDeps, viewer: Viewer, sel: Selection, timeoutMs: number | null): Promise<Replayed> {
  const owner = viewer.admin ? null : viewer.owner;
  const r = await deps.sql.begin(async (raw) => {
    const tx = preparing(raw) as unknown as Sql;
    const { chosen, skipped, failedBefore, filter } = await choose(deps, tx, owner, sel);
    if (timeoutMs !== null) {
      for (const type of new Set(chosen.map((j) => j.type))) {
        const problem = timeoutProblem(deps.types.get(type)!, timeoutMs);
        if (problem) return { replayed: [], skipped: [], hasMore: false, failedBefore: null, timeoutRefused: `${problem} for a ${type} job` };
      }
    }
    const rows = chosen.map((j) => ({ id: j.id, subject: deps.names.jobSubject(j.type), deadLetterSeq: j.deadLetterSeq }));
    const results = await replayFailedJobs(tx, rows, timeoutMs);
    const replayed = results.flatMap((x, i) => (x ? [{ ...x, deadLetterSeq: chosen[i]!.deadLetterSeq }] : []));
    // Locked FAILED, so replayed: a row the statement did not change would be a bug, reported rather than lost.
    chosen.forEach((j, i) => results[i] || skipped.push({ id: j.id, code: UserErrorCode.INVALID_STATE, message: 'it changed while it was being retried' }));
    // Asked after the replay, so its own jobs (QUEUED now) are not counted, and those the lock skipped are: a
    // job the dead-letter recorder was updating at that instant is still FAILED afterwards, and the last page
    // answered no more while it was left behind.
    const hasMore = filter !== null && (await failedJobsLeft(tx, filter));
    return { replayed, skipped, hasMore, failedBefore, timeoutRefused: null };
  });
  // Committed: the jobs are replayed, and that is the answer. What is left is tidying that the background
  // machinery finishes if it fails here: a copy's removal is noted in dead_letter_removals (the dead-letter
  // sweep's), and the outbox entries are the relay's.
  const copies = r.replayed.flatMap((x) => (x.deadLetterSeq === null ? [] : [{ seq: x.deadLetterSeq, jobId: x.job.id }]));
  // NATS down: one window's wait, then the sweep's (the answer does not wait for a timeout per 64 copies).
  await removeDeadLetterCopies(deps, copies).catch((e: unknown) =>
    deps.log.warn({ err: e, jobIds: copies.slice(0, 10).map((c) => c.jobId) }, 'retryJob: replayed; removing dead-letter copies failed, the dead-letter sweep removes them'),
  );
  if (r.replayed.length) deps.relay.publishSoon(r.replayed.map((x) => x.outbox));
  for (const x of r.replayed) publishUpdate(deps.nats.nc, deps.names, updateFromJob(x.job));
  return { jobs: r.replayed.map((x) => x.job), skipped: r.skipped, hasMore: r.hasMore, failedBefore: r.failedBefore, timeoutRefused: r.timeoutRefused };
}

/**
 * FAILED → QUEUED, a new attempt series (with `timeoutMs`, that per-attempt timeout: 100..its type's current
 * one); its copy is removed from the dead-letter stream (once NATS answers). A job whose type the server no
 * longer has is refused (UNKNOWN_JOB_TYPE), one that is not FAILED too (INVALID_STATE).
 */
export async function retryJob(
  deps: JobDeps,
  viewer: Viewer,
  id: string,
  timeoutMs?: number | null,
): Promise<{ job: JobRow | null; userErrors: UserError[] }> {
  if (!isUuid(id)) throw new NotFoundError('job');
  const r = await replay(deps, viewer, { ids: [id] }, timeoutMs ?? null);
  if (r.jobs[0]) return { job: r.jobs[0], userErrors: [] };
  if (r.skipped[0]?.code === 'NOT_FOUND') throw new NotFoundError('job');
  const job = await getJob(deps.sql, id); // as it is now, with its refusal
  if (!job || !canSee(viewer, job)) throw new NotFoundError('job'); // purged by retention meanwhile
  if (r.timeoutRefused) return { job, userErrors: [{ code: UserErrorCode.OUT_OF_RANGE, field: ['timeoutMs'], message: r.timeoutRefused }] };
  const skip = r.skipped[0]!;
  return { job, userErrors: [{ code: skip.code as UserErrorCode, field: ['id'], message: skip.message }] };
}

/** `retryJobs` input (schema: RetryJobsInput). */
export interface RetryJobsInput {
  ids?: readonly string[] | null;
  types?: readonly string[] | null;
  failedAfter?: Date | null;
  failedBefore?: Date | null;
  onlyDeadLettered?: boolean | null;
  limit?: number | null;
  timeoutMs?: number | null;
}

export interface RetryJobsResult {
  retried: number;
  jobs: JobRow[];
  hasMore: boolean;
  failedBefore: Date | null;
  skipped: SkippedJob[];
  userErrors: UserError[];
}

/** Why the input is refused (every problem found), before anything is read. */
function inputErrors(deps: Pick<JobDeps, 'types'>, input: RetryJobsInput): UserError[] {
  const errors: UserError[] = [];
  const refuse = (code: UserErrorCode, field: string[], message: string) => errors.push({ code, field: ['input', ...field], message });
  const filter = (['types', 'failedAfter', 'failedBefore', 'onlyDeadLettered', 'limit'] as const).filter((k) => input[k] != null);
  if (input.ids != null && filter.length) {
    refuse(UserErrorCode.CONFLICTING_INPUT, ['ids'], `give ids or a filter, not both (ids with ${filter.join(', ')})`);
  }
  if (input.ids != null && (input.ids.length === 0 || input.ids.length > MAX_RETRY_BATCH)) {
    refuse(UserErrorCode.OUT_OF_RANGE, ['ids'], `give 1..${MAX_RETRY_BATCH} ids (${input.ids.length} given)`);
  }
  // An empty list names no type (as in a `jobs` filter): refused rather than read as every type.
  if (input.types?.length === 0) refuse(UserErrorCode.OUT_OF_RANGE, ['types'], 'name at least one type, or omit types for all');
  input.types?.forEach((type, i) => {
    if (!deps.types.has(type)) refuse(UserErrorCode.UNKNOWN_JOB_TYPE, ['types', String(i)], `this server has no job type ${JSON.stringify(type)}`);
  });
  if (input.limit != null && (input.limit < 1 || input.limit > MAX_RETRY_BATCH)) {
    refuse(UserErrorCode.OUT_OF_RANGE, ['limit'], `must be 1..${MAX_RETRY_BATCH}`);
  }
  if (input.timeoutMs != null && input.timeoutMs < TIMEOUT_RANGE.min) {
    refuse(UserErrorCode.OUT_OF_RANGE, ['timeoutMs'], `timeoutMs must be at least ${TIMEOUT_RANGE.min}`);
  }
  return errors;
}

/**
 * `retryJobs`: replays the viewer's FAILED jobs (an admin's: anyone's) named by `ids`, or up to `limit` of
 * those that match the filter (those that failed first first; of the types this server has), in one
 * transaction, each as `retryJob` replays it. By ids, one that cannot be replayed is `skipped` and the others
 * go ahead; bad input, or a `timeoutMs` outside a chosen job's type's range, replays nothing.
 */
export async function retryJobs(deps: JobDeps, viewer: Viewer, input: RetryJobsInput): Promise<RetryJobsResult> {
  // As in a `jobs` filter: the DateTime scalar takes year 0, which PostgreSQL does not (it was an internal error).
  checkYearOne('input.failedAfter', input.failedAfter ?? null);
  checkYearOne('input.failedBefore', input.failedBefore ?? null);
  const none = { retried: 0, jobs: [], hasMore: false, failedBefore: null, skipped: [] };
  const userErrors = inputErrors(deps, input);
  if (userErrors.length) return { ...none, userErrors };
  const seen = new Set<string>();
  const sel: Selection = input.ids
    ? { ids: input.ids.filter((id) => !seen.has(id.toLowerCase()) && seen.add(id.toLowerCase())) } // a repeat counts once
    : {
        types: input.types ?? [...deps.types.keys()],
        failedAfter: input.failedAfter ?? null,
        failedBefore: input.failedBefore ?? null,
        onlyDeadLettered: input.onlyDeadLettered ?? false,
        limit: input.limit ?? MAX_RETRY_BATCH,
      };
  const r = await replay(deps, viewer, sel, input.timeoutMs ?? null);
  if (r.timeoutRefused) return { ...none, userErrors: [{ code: UserErrorCode.OUT_OF_RANGE, field: ['input', 'timeoutMs'], message: r.timeoutRefused }] };
  if (r.jobs.length) deps.log.info({ retried: r.jobs.length, hasMore: r.hasMore }, 'retryJobs: replayed FAILED jobs');
  return { retried: r.jobs.length, jobs: r.jobs, hasMore: r.hasMore, failedBefore: r.failedBefore, skipped: r.skipped, userErrors: [] };
}
