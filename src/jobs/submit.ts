/**
 * Submitting jobs: validate against the type definitions (submit-check.ts), then insert the jobs and their outbox entries in
 * one statement, and publish after the commit. Invalid input writes and publishes nothing.
 */
import { getJobsByKeys, INSERT_ROUNDS, insertJobs, type InsertResult, type NewJob } from '../db/jobs.js';
import { insertNotifications } from '../db/notifications.js';
import { preparing, type Sql } from '../db/client.js';
import type { CheckedNotification } from '../notifications/validate.js';
import { jobsSubmitted } from '../observability/metrics.js';
import { contextFrom, inSpan, SpanKind, traceparentOf } from '../observability/tracing.js';
import type { JobRow, KeyedJobRow } from '../db/schema.js';
import { ErrorCode, PublicError, ServiceUnavailableError, UserErrorCode, isDatabaseUnavailable, type UserError } from '../errors.js';
import { faultPoint } from '../faults.js';
import { updateFromJob } from '../progress/updates.js';
import type { JobDeps, Viewer } from './deps.js';
import { firstOfEachKey, holderAmong, keysOfOtherTypes } from './idempotency-keys.js';
import { countPayloads, validateSubmit, type PayloadBudget, type SubmitInput } from './submit-check.js';

/** Most jobs one `submitJobs` call accepts. */
export const MAX_BATCH_SIZE = 1000;

/** What a submit answers: its jobs in input order, or the user errors that refused it (nothing written then). */
export interface SubmitResult {
  jobs: JobRow[] | null;
  userErrors: UserError[];
  /**
   * Refused (by the input, or by what the database holds: a key taken by a job of another type) before
   * anything was written: its submit-rate tokens are given back. False for a batch rolled back because a
   * concurrent submit took one of its keys while it was being written: that cost the writes.
   */
  refused: boolean;
}

/**
 * Submits a batch, all or nothing: any invalid input refuses the whole batch. Returns the jobs in input
 * order (an idempotency-key repeat returns the first job with that key). `payloadBytes`: each input's
 * payload size, as `countPayloads` counted it.
 */
async function submitJobs(
  deps: JobDeps,
  viewer: Viewer,
  inputs: SubmitInput[],
  at: (i: number) => string[],
  payloadBytes: readonly number[],
): Promise<SubmitResult> {
  const checked = await Promise.all(inputs.map((input, i) => validateSubmit(deps, viewer, input, at(i), payloadBytes[i]!)));
  const userErrors = checked.flatMap((c) => ('errors' in c ? c.errors : []));
  if (userErrors.length) return refusedByInput(userErrors);
  const valid = checked as { job: NewJob; notifications: CheckedNotification[] }[];
  const jobs = valid.map((c) => c.job);
  const keyed = firstOfEachKey(jobs, at);
  if ('errors' in keyed) return refusedByInput(keyed.errors);
  const { unique, firstByKey } = keyed;
  // A batch is all or nothing: a key taken by a job of another type must refuse it before anything is
  // written. (A lone submit finds out from the insert's answer, below, without this extra read.)
  const batchWithKeys = firstByKey.size > 0 && jobs.length > 1;
  if (batchWithKeys) {
    const taken = await unavailableIfDown(() => getJobsByKeys(deps.sql, viewer.owner, [...firstByKey.keys()]));
    const byTakenKey = new Map(taken.map((t) => [t.idempotencyKey!, t]));
    const errors = keysOfOtherTypes(jobs, at, (key) => byTakenKey.get(key));
    if (errors.length) return refusedByDatabase(errors);
  }
  // A concurrent submit can still take one of the batch's keys between that read and the insert (a lone
  // submit racing it does most times): so a batch with keys is inserted in a transaction of its own, which
  // checks the keys' jobs again and rolls back when one is of another type.
  const checkKeys = batchWithKeys ? (existing: readonly KeyedJobRow[]) => keysOfOtherTypes(jobs, at, holderAmong(existing)) : null;
  const result = await inSpan('longrun.submit', contextFrom(inputs[0]?.traceparent), { 'longrun.jobs': unique.length }, async (span) => {
    // The jobs carry this span's context: the worker's spans continue the submit's trace.
    for (const j of unique) j.traceparent = traceparentOf(span, j.traceparent);
    const notifications = valid.flatMap((c) => c.notifications.map((n) => ({ ...n, jobId: c.job.id, subject: deps.names.notificationSubject })));
    return unavailableIfDown(() =>
      checkKeys || notifications.length ? insertInTransaction(deps.sql, unique, notifications, checkKeys) : deps.insertJobs(unique),
    );
  }, SpanKind.SERVER);
  if ('rolledBack' in result) return { jobs: null, userErrors: result.rolledBack, refused: false };
  const byKey = new Map<string, JobRow>(result.existing.map((j) => [j.idempotencyKey!, j]));
  if (!result.inserted.length) {
    // Nothing of this call was written: a key that names a job of another type is refused.
    const errors = keysOfOtherTypes(jobs, at, holderAmong(result.existing));
    if (errors.length) return refusedByDatabase(errors);
  }
  for (const r of result.inserted) {
    jobsSubmitted.inc({ type: r.job.type });
    deps.log.info({ jobId: r.job.id, type: r.job.type }, 'job submitted');
  }
  faultPoint('after-commit-before-publish');
  if (result.inserted.length) {
    // Live `jobUpdates` watchers see each new job QUEUED: with its messages, as the answer is written.
    deps.relay.publishSoon(
      result.inserted.map((r) => r.outbox),
      result.inserted.map((r) => updateFromJob(r.job)),
    );
  }
  const byId = new Map<string, JobRow>(result.inserted.map((r) => [r.job.id, r.job]));
  const answers = jobs.map((j) => {
    const first = j.idempotencyKey === null ? j : firstByKey.get(j.idempotencyKey)!;
    return byId.get(first.id) ?? byKey.get(j.idempotencyKey!);
  });
  // A key whose job was deleted (retention, purgeJobs) each time the insert found it taken: never `null`.
  if (answers.some((a) => a === undefined)) throw keyBeingDeleted();
  return { jobs: answers as JobRow[], userErrors: [], refused: false };
}

/** Refused by the input alone, before any database work. */
const refusedByInput = (userErrors: UserError[]): SubmitResult => ({ jobs: null, userErrors, refused: true });
/**
 * Refused by what the database holds (a key taken by a job of another type), found by a read or by an insert
 * that wrote nothing: as free as a refusal by the input (the submit rate bounds the jobs written; such a
 * refusal costs one indexed read, as a `job(id)` query does).
 */
const refusedByDatabase = (userErrors: UserError[]): SubmitResult => ({ jobs: null, userErrors, refused: true });

/** Runs a database call; a lost connection is SERVICE_UNAVAILABLE. */
async function unavailableIfDown<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isDatabaseUnavailable(e)) throw new ServiceUnavailableError('the database', e);
    throw e;
  }
}

/**
 * `submitJob(input)`: one job, its payload taken from the operation's `budget` (refused whole when it does not
 * fit in what the fields before it left, or in all of it: OUT_OF_RANGE on `["input", "payload"]`).
 */
export async function submitOne(deps: JobDeps, viewer: Viewer, input: SubmitInput, budget: PayloadBudget): Promise<SubmitResult> {
  return submitWithin(budget, deps, viewer, [input], () => ['input'], ['input', 'payload']);
}

/**
 * `submitJobs(inputs)`: up to MAX_BATCH_SIZE jobs, all or nothing, in one statement, their payloads taken from
 * the operation's `budget` (refused whole when they do not fit: OUT_OF_RANGE on `["inputs"]`). Errors name
 * the input by its index (`["inputs", "3", "payload", "ms"]`).
 */
export async function submitBatch(
  deps: JobDeps,
  viewer: Viewer,
  inputs: SubmitInput[],
  budget: PayloadBudget,
): Promise<SubmitResult> {
  if (inputs.length > MAX_BATCH_SIZE) {
    return refusedByInput([{ code: UserErrorCode.OUT_OF_RANGE, field: ['inputs'], message: `at most ${MAX_BATCH_SIZE} jobs per call; got ${inputs.length}` }]);
  }
  if (inputs.length === 0) return { jobs: [], userErrors: [], refused: false };
  return submitWithin(budget, deps, viewer, inputs, (i) => ['inputs', String(i)], ['inputs']);
}

/**
 * Submits `inputs` when their payloads, each counted once (`countPayloads`), fit in what is left of the
 * operation's `budget`, and takes them from it once written; else refuses the field whole (OUT_OF_RANGE on
 * `field`, or on each payload past MAX_PAYLOAD_BYTES) before anything else is checked or written.
 */
async function submitWithin(
  budget: PayloadBudget,
  deps: JobDeps,
  viewer: Viewer,
  inputs: SubmitInput[],
  at: (i: number) => string[],
  field: string[],
): Promise<SubmitResult> {
  const counted = countPayloads(budget, inputs, at, field);
  if ('errors' in counted) return refusedByInput(counted.errors);
  const r = await submitJobs(deps, viewer, inputs, at, counted.bytes);
  if (r.jobs) budget.left -= counted.total;
  return r;
}

/** A batch refused inside its transaction, which rolls it back. */
class KeysTaken extends Error {
  override name = 'KeysTaken';
  constructor(readonly errors: UserError[]) {
    super('idempotency keys taken by jobs of other types');
  }
}

/** A key whose job was deleted each time the insert found it taken: the submit is to be tried again. */
const keyBeingDeleted = () =>
  new PublicError(ErrorCode.SERVICE_UNAVAILABLE, 'the job holding this idempotencyKey was being deleted (retention); try again');

/** A key's job deleted between the insert and its read: the transaction is rolled back and run again. */
class KeyFreed extends Error {
  override name = 'KeyFreed';
}

/**
 * Inserts the jobs and, in the same transaction, the subscriptions of those actually inserted. `checkKeys`
 * refuses the batch by the jobs its taken keys named: then the transaction is rolled back (`rolledBack`).
 * A key whose job was deleted between the insert and its read (retention, `purgeJobs`) rolls the transaction
 * back and runs it again, up to INSERT_ROUNDS times in all, so that every try takes its keys in (owner, key)
 * order (`insertJobs`); after the last, the batch is rolled back and answers SERVICE_UNAVAILABLE (try again),
 * with nothing of it written: committing the rest would make a retry submit its unkeyed inputs twice.
 */
async function insertInTransaction(
  sql: Sql,
  jobs: NewJob[],
  notifications: Parameters<typeof insertNotifications>[1],
  checkKeys: ((existing: readonly KeyedJobRow[]) => UserError[]) | null,
): Promise<InsertResult | { rolledBack: UserError[] }> {
  for (let round = 1; ; round++) {
    try {
      return (await sql.begin(async (raw) => {
        const tx = preparing(raw) as unknown as Sql;
        const result = await insertJobs(tx, jobs, 1);
        if (result.unanswered !== undefined) throw result.unanswered; // rolled back: nothing of it is written
        // Each job is inserted or answered by the one job holding its key (`jobs` has each key once).
        if (result.inserted.length + result.existing.length < jobs.length) throw round < INSERT_ROUNDS ? new KeyFreed() : keyBeingDeleted();
        const errors = checkKeys?.(result.existing) ?? [];
        if (errors.length) throw new KeysTaken(errors);
        const inserted = new Set(result.inserted.map((r) => r.job.id));
        const theirs = notifications.filter((n) => inserted.has(n.jobId));
        if (theirs.length) await insertNotifications(tx, theirs);
        return result;
      })) as InsertResult;
    } catch (e) {
      if (e instanceof KeysTaken) return { rolledBack: e.errors };
      if (!(e instanceof KeyFreed)) throw e;
    }
  }
}
