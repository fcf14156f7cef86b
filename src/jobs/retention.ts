/**
 * Retention: finished jobs are deleted some time after they finished, with everything that belongs to them
 * (history, notification deliveries, outbox entries, a FAILED job's copy in the dead-letter stream). Every
 * API process runs a pass every `RETENTION_INTERVAL_MS` (`startRetention`); admins can purge at once with
 * the `purgeJobs` mutation (`longrun purge`).
 *
 * One batch (at most 1,000 jobs) is one transaction: lock the expired rows (`skip locked`: several processes
 * take different rows), delete their dead-letter copies from the stream, then delete the rows and commit.
 * The copy goes first, so a crash in between leaves a row whose copy is gone (the next pass deletes it; a
 * copy not there counts as deleted), never a copy whose row is gone. A job whose copy NATS did not delete
 * is kept for a later pass. The rows stay locked throughout, so a `retryJob` replay of one of them waits and
 * then finds no job, and a replay that locked it first is skipped and, once QUEUED, never matches again.
 */
import { preparing, type Sql } from '../db/client.js';
import { countExpiredJobs, deleteJobs, expiredJobsLeft, FINISHED_STATES, lockExpiredJobs, type ExpiredJob, type PurgeAges } from '../db/retention.js';
import type { Config } from '../config.js';
import { ServiceUnavailableError, UserErrorCode, type UserError } from '../errors.js';
import { deleteDeadLetterCopies } from '../messaging/dead-letters.js';
import { orAfter, STOP_WAIT_MS } from '../deadline.js';
import { jobsPurged } from '../observability/metrics.js';
import { repeatAfterEach } from '../repeat.js';
import { requireAdmin, type JobDeps, type Viewer } from './deps.js';
import type { JobState } from './state.js';

/** Jobs per batch: one lock-copies-delete transaction. */
export const PURGE_BATCH = 1000;
/**
 * History rows per batch, at most (by the jobs' seqs), unless one job has more: a thousand jobs that each
 * reported progress for an hour (about 14,000 rows each) would otherwise be one transaction deleting 14
 * million rows, holding its locks for minutes.
 */
export const PURGE_BATCH_ROWS = 100_000;
/** Most jobs one `purgeJobs` call deletes. */
export const MAX_PURGE_LIMIT = 10_000;
const DAY_MS = 86_400_000;

export type RetentionDeps = Pick<JobDeps, 'sql' | 'nats' | 'names' | 'log'>;

export interface PurgeResult {
  /** Jobs deleted. */
  purged: number;
  /** Dead-letter stream copies deleted with them. */
  deadLetterCopiesRemoved: number;
  /** More jobs may match (the limit was reached, a copy could not be deleted, or another transaction held one). */
  hasMore: boolean;
  /** NATS did not delete a copy: its job (and any after it) stays for a later pass. */
  stalled: boolean;
}

/** The configured ages (SUCCEEDED and CANCELLED, FAILED); null when every job is kept for ever. */
export function retentionAges(c: Pick<Config, 'JOB_RETENTION_DAYS' | 'FAILED_JOB_RETENTION_DAYS'>): PurgeAges | null {
  const ages: PurgeAges = {};
  if (c.JOB_RETENTION_DAYS > 0) ages.SUCCEEDED = ages.CANCELLED = c.JOB_RETENTION_DAYS * DAY_MS;
  if (c.FAILED_JOB_RETENTION_DAYS > 0) ages.FAILED = c.FAILED_JOB_RETENTION_DAYS * DAY_MS;
  return Object.keys(ages).length ? ages : null;
}

/** One batch: lock expired jobs, delete their dead-letter copies, delete them; counted once committed. */
async function purgeBatch(d: RetentionDeps, ages: PurgeAges, limit: number) {
  const r = await d.sql.begin(async (raw) => {
    const tx = preparing(raw) as unknown as Sql;
    const locked = await lockExpiredJobs(tx, ages, limit);
    const jobs = withinRows(locked, PURGE_BATCH_ROWS); // the rest stay for the next batch (unlocked at commit)
    const copies = jobs.flatMap((j) => (j.deadLetterSeq === null ? [] : [{ seq: j.deadLetterSeq, jobId: j.id }]));
    const gone = copies.length ? await deleteDeadLetterCopies(d, copies) : new Set<number>();
    const ids = jobs.filter((j) => j.deadLetterSeq === null || gone.has(j.deadLetterSeq)).map((j) => j.id);
    const deleted = await deleteJobs(tx, ids);
    // A batch short of `limit` took every expired job it could: any left is held by another transaction.
    const held = locked.length < limit && (await expiredJobsLeft(tx, ages));
    return { chosen: jobs.length, cut: jobs.length < locked.length, held, deleted, copies: gone.size };
  });
  for (const j of r.deleted) jobsPurged.inc({ type: j.type, state: j.state.toLowerCase() });
  return r;
}

/** The first jobs whose history rows (by seq) add up to at most `rows`; at least one. */
function withinRows(jobs: readonly ExpiredJob[], rows: number): ExpiredJob[] {
  let sum = 0;
  const n = jobs.findIndex((j, i) => (sum += j.seq) > rows && i > 0);
  return n < 0 ? [...jobs] : jobs.slice(0, n);
}

/**
 * Deletes up to `limit` expired jobs, oldest first, in batches of at most PURGE_BATCH jobs and
 * PURGE_BATCH_ROWS history rows; `stopping` ends it between batches.
 */
export async function purgeExpiredJobs(d: RetentionDeps, ages: PurgeAges, limit: number, stopping = () => false): Promise<PurgeResult> {
  const out: PurgeResult = { purged: 0, deadLetterCopiesRemoved: 0, hasMore: false, stalled: false };
  while (out.purged < limit && !stopping()) {
    const size = Math.min(PURGE_BATCH, limit - out.purged);
    const b = await purgeBatch(d, ages, size);
    out.purged += b.deleted.length;
    out.deadLetterCopiesRemoved += b.copies;
    out.stalled = b.deleted.length < b.chosen;
    const full = b.chosen === size || b.cut;
    out.hasMore = full || out.stalled || b.held;
    if (!full || out.stalled) break; // rows another transaction holds are for a later call, not this loop
  }
  return out;
}

export interface Retention {
  /** One pass: every expired job, batch by batch (tests; also run on the timer). */
  runOnce(): Promise<PurgeResult>;
  stop(): Promise<void>;
}

/** Runs a retention pass `intervalMs` after the end of the last one (none when `ages` is null: everything is kept). */
export function startRetention(d: RetentionDeps, o: { ages: PurgeAges | null; intervalMs: number }): Retention {
  const { ages } = o;
  let stopped = false;
  const days = (ms: number | undefined) => (ms === undefined ? 'for ever' : `${ms / DAY_MS} days`);
  d.log.info(
    `retention: SUCCEEDED and CANCELLED jobs are kept ${days(ages?.SUCCEEDED)}, FAILED jobs ${days(ages?.FAILED)} (JOB_RETENTION_DAYS, FAILED_JOB_RETENTION_DAYS)`,
  );

  async function runOnce(): Promise<PurgeResult> {
    if (!ages) return { purged: 0, deadLetterCopiesRemoved: 0, hasMore: false, stalled: false };
    const total = await purgeExpiredJobs(d, ages, Infinity, () => stopped);
    if (total.purged) d.log.info({ purged: total.purged, deadLetterCopiesRemoved: total.deadLetterCopiesRemoved }, 'retention: deleted expired finished jobs');
    if (total.stalled) d.log.warn('retention: NATS did not delete a dead-letter copy; its job is kept until a later pass');
    return total;
  }

  // The next pass is timed from the end of the last one: a pass longer than the interval (the first one
  // over a large backlog) is never joined by another, each holding a pool connection.
  const passes = ages
    ? repeatAfterEach(o.intervalMs, () =>
        runOnce().catch((e: unknown) => d.log.warn({ err: e }, 'retention: pass failed; trying again at the next one')),
      )
    : null;

  return {
    runOnce,
    async stop() {
      stopped = true;
      // A pass stuck on a silent PostgreSQL is left behind: a later one purges what it did not.
      await orAfter(passes?.stop() ?? Promise.resolve(), STOP_WAIT_MS, undefined);
    },
  };
}

/** `purgeJobs` input (schema: PurgeJobsInput). */
export interface PurgeJobsInput {
  olderThanSeconds: number;
  states?: readonly JobState[] | null;
  dryRun?: boolean | null;
  limit?: number | null;
}

/**
 * `purgeJobs` (admins only): deletes finished jobs that finished at least `olderThanSeconds` ago, in the
 * given states (all three by default), at most `limit` per call; with `dryRun`, counts them instead.
 */
export async function purgeJobs(
  deps: RetentionDeps,
  viewer: Viewer,
  input: PurgeJobsInput,
): Promise<{ purged: number; deadLetterCopiesRemoved: number; hasMore: boolean; userErrors: UserError[] }> {
  requireAdmin(viewer, 'purgeJobs');
  const refused = (code: UserErrorCode, field: string, message: string) => ({
    purged: 0,
    deadLetterCopiesRemoved: 0,
    hasMore: false,
    userErrors: [{ code, field: ['input', field], message }],
  });
  // An empty list names no state (as in a `jobs` filter): refused rather than read as all three.
  if (input.states?.length === 0) return refused(UserErrorCode.OUT_OF_RANGE, 'states', 'name at least one state, or omit states for all three');
  const states = input.states ?? FINISHED_STATES;
  const unfinished = states.filter((s) => !(FINISHED_STATES as readonly string[]).includes(s));
  if (unfinished.length) {
    return refused(UserErrorCode.INVALID_STATE, 'states', `only finished jobs (SUCCEEDED, FAILED, CANCELLED) can be purged, not ${unfinished.join(', ')}`);
  }
  if (input.olderThanSeconds < 0) return refused(UserErrorCode.OUT_OF_RANGE, 'olderThanSeconds', 'must be 0 or more');
  const limit = input.limit ?? MAX_PURGE_LIMIT;
  if (limit < 1 || limit > MAX_PURGE_LIMIT) return refused(UserErrorCode.OUT_OF_RANGE, 'limit', `must be 1..${MAX_PURGE_LIMIT}`);
  const ages: PurgeAges = Object.fromEntries(states.map((s) => [s, input.olderThanSeconds * 1000]));

  if (input.dryRun) {
    const counts = await countExpiredJobs(deps.sql, ages);
    const purged = Object.values(counts).reduce((a, b) => a + b, 0);
    return { purged, deadLetterCopiesRemoved: 0, hasMore: false, userErrors: [] };
  }
  const r = await purgeExpiredJobs(deps, ages, limit);
  if (r.stalled && r.purged === 0) throw new ServiceUnavailableError('NATS (deleting dead-letter copies)');
  deps.log.info({ purged: r.purged, deadLetterCopiesRemoved: r.deadLetterCopiesRemoved, olderThanSeconds: input.olderThanSeconds, states }, 'purgeJobs: deleted finished jobs');
  return { purged: r.purged, deadLetterCopiesRemoved: r.deadLetterCopiesRemoved, hasMore: r.hasMore, userErrors: [] };
}
