/**
 * Submitting jobs: validate against the type definitions, then insert the jobs and their outbox entries in
 * one statement, and publish after the commit. Invalid input writes and publishes nothing.
 */
import { randomUUID } from 'node:crypto';
import { getJobsByKeys, INSERT_ROUNDS, insertJobs, type InsertResult, type NewJob } from '../db/jobs.js';
import { insertNotifications } from '../db/notifications.js';
import { preparing, type Sql } from '../db/client.js';
import { validateNotify, type CheckedNotification, type NotifyInput } from '../notifications/validate.js';
import { jobsSubmitted } from '../observability/metrics.js';
import { contextFrom, inSpan, SpanKind, traceparentOf } from '../observability/tracing.js';
import type { JobRow, KeyedJobRow } from '../db/schema.js';
import { ErrorCode, PublicError, ServiceUnavailableError, UserErrorCode, isConnectionError, type UserError } from '../errors.js';
import { faultPoint } from '../faults.js';
import { publishUpdate, updateFromJob } from '../progress/updates.js';
import { MAX_ATTEMPTS_RANGE, parsePayload, timeoutProblem, type JobType } from './definition.js';
import type { JobDeps, Viewer } from './deps.js';
import { checkJson, isStorableText, MAX_PAYLOAD_BYTES, MAX_PAYLOAD_DEPTH, nonFiniteNumberAt, quoted, unstorableMessage } from './payload-check.js';

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** Most jobs one `submitJobs` call accepts. */
export const MAX_BATCH_SIZE = 1000;
/** How far ahead a `runAt` may be, in days. */
export const MAX_RUN_AT_DAYS = 366;

export interface SubmitInput {
  type: string;
  payload?: unknown;
  maxAttempts?: number | null | undefined;
  idempotencyKey?: string | null | undefined;
  timeoutMs?: number | null | undefined;
  traceparent?: string | null;
  /** Notifications to send when the job reaches one of the given states. */
  notify?: readonly NotifyInput[] | null | undefined;
  /** Not to start before this instant (a scheduled job); absent or not in the future: at once. */
  runAt?: Date | null | undefined;
}

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

/** One input checked: the job to insert and its notifications, or why it is refused. */
type Checked = { job: NewJob; notifications: CheckedNotification[] } | { errors: UserError[] };

/**
 * Checks one input; `at` is the path prefix of its fields (e.g. `['input']` or `['inputs', '3']`).
 * Asynchronous: the payload's schema may check asynchronously (`parsePayload`).
 */
export async function validateSubmit(
  deps: Pick<JobDeps, 'types' | 'names' | 'notify'>,
  viewer: Viewer,
  input: SubmitInput,
  at: string[],
): Promise<Checked> {
  const type = deps.types.get(input.type);
  if (!type) {
    return {
      errors: [{ code: UserErrorCode.UNKNOWN_JOB_TYPE, field: [...at, 'type'], message: `unknown job type ${quoted(input.type)}` }],
    };
  }
  const errors: UserError[] = [];
  const payload = input.payload ?? {};
  const payloadIssues = await payloadErrors(type, payload, at);
  const maxAttempts = input.maxAttempts ?? type.maxAttempts;
  const ceiling = Math.min(MAX_ATTEMPTS_RANGE.max, type.maxDeliver);
  if (!Number.isInteger(maxAttempts) || maxAttempts < MAX_ATTEMPTS_RANGE.min || maxAttempts > ceiling) {
    errors.push({ code: UserErrorCode.OUT_OF_RANGE, field: [...at, 'maxAttempts'], message: `maxAttempts must be between ${MAX_ATTEMPTS_RANGE.min} and ${ceiling}` });
  }
  const timeoutMs = input.timeoutMs ?? type.timeoutMs;
  const timeoutRefused = timeoutProblem(type, timeoutMs);
  if (timeoutRefused) errors.push({ code: UserErrorCode.OUT_OF_RANGE, field: [...at, 'timeoutMs'], message: timeoutRefused });
  const key = input.idempotencyKey ?? null;
  if (key !== null && (key.length === 0 || characters(key, MAX_IDEMPOTENCY_KEY_LENGTH) > MAX_IDEMPOTENCY_KEY_LENGTH || !isStorableText(key))) {
    errors.push({ code: UserErrorCode.OUT_OF_RANGE, field: [...at, 'idempotencyKey'], message: `idempotencyKey must be 1..${MAX_IDEMPOTENCY_KEY_LENGTH} characters, none of them NUL` });
  }
  const runAt = scheduledAt(input.runAt);
  if (runAt === 'out-of-range') errors.push({ code: UserErrorCode.OUT_OF_RANGE, field: [...at, 'runAt'], message: RUN_AT_OUT_OF_RANGE });
  const notify = validateNotify(input.notify, deps.notify, [...at, 'notify']);
  if ('errors' in notify) errors.push(...notify.errors);
  if (payloadIssues.length || errors.length) return { errors: [...payloadIssues, ...errors] };
  return {
    notifications: 'notifications' in notify ? notify.notifications : [],
    job: {
      id: randomUUID(),
      owner: viewer.owner,
      type: type.name,
      payload,
      maxAttempts,
      timeoutMs,
      idempotencyKey: key,
      traceparent: input.traceparent ?? null,
      subject: deps.names.jobSubject(type.name),
      runAt: runAt as Date | null,
    },
  };
}

/** Why a `runAt` past MAX_RUN_AT_DAYS ahead is refused (OUT_OF_RANGE). */
export const RUN_AT_OUT_OF_RANGE = `runAt must be at most ${MAX_RUN_AT_DAYS} days ahead`;

/**
 * A submit's (or a `rescheduleJob`'s) `runAt`: the instant to schedule the job at, null when it is absent or
 * not in the future (the job runs at once, as without it), or `out-of-range` past MAX_RUN_AT_DAYS ahead.
 */
export function scheduledAt(runAt: Date | null | undefined): Date | null | 'out-of-range' {
  if (!runAt) return null;
  const ms = runAt.getTime();
  const now = Date.now();
  if (!(ms <= now + MAX_RUN_AT_DAYS * 86_400_000)) return 'out-of-range'; // NaN included
  return ms > now ? runAt : null;
}

/**
 * How many characters (Unicode code points, as PostgreSQL counts a text's length) `s` has, counted up to just
 * past `max`: an emoji is one character and two UTF-16 code units (`s.length`).
 */
function characters(s: string, max: number): number {
  if (s.length <= max) return s.length;
  let n = 0;
  for (const _ of s) if (++n > max) break;
  return n;
}

/** Why a payload is refused (storable, within MAX_PAYLOAD_BYTES, then its type's schema); empty: accepted. */
async function payloadErrors(type: JobType, payload: unknown, at: string[]): Promise<UserError[]> {
  const shape = checkJson(payload, MAX_PAYLOAD_DEPTH, Infinity, { finite: true });
  if (shape === 'too-deep') return [{ code: UserErrorCode.OUT_OF_RANGE, field: [...at, 'payload'], message: unstorableMessage('payload', shape) }];
  const size = Buffer.byteLength(JSON.stringify(payload));
  if (size > MAX_PAYLOAD_BYTES) {
    return [{ code: UserErrorCode.OUT_OF_RANGE, field: [...at, 'payload'], message: `payload is ${size} bytes; the maximum is ${MAX_PAYLOAD_BYTES}` }];
  }
  if (shape === 'unstorable') return [{ code: UserErrorCode.INVALID_PAYLOAD, field: [...at, 'payload'], message: unstorableMessage('payload', shape) }];
  if (shape === 'non-finite') {
    const field = [...at, 'payload', ...(nonFiniteNumberAt(payload) ?? [])];
    return [{ code: UserErrorCode.INVALID_PAYLOAD, field, message: unstorableMessage('payload', shape) }];
  }
  const parsed = await parsePayload(type, payload);
  if (parsed.success) return [];
  return parsed.error.issues.slice(0, 10).map((issue) => ({
    code: UserErrorCode.INVALID_PAYLOAD,
    field: [...at, 'payload', ...issue.path.map(String)],
    message: issue.message,
  }));
}

/**
 * Submits a batch, all or nothing: any invalid input refuses the whole batch. Returns the jobs in input
 * order (an idempotency-key repeat returns the first job with that key).
 */
export async function submitJobs(
  deps: JobDeps,
  viewer: Viewer,
  inputs: SubmitInput[],
  at: (i: number) => string[],
): Promise<SubmitResult> {
  const checked = await Promise.all(inputs.map((input, i) => validateSubmit(deps, viewer, input, at(i))));
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
    // Live `jobUpdates` watchers see each new job QUEUED: after the answer, with its messages.
    const queued = result.inserted.map((r) => r.job);
    deps.relay.publishSoon(result.inserted.map((r) => r.outbox), () => {
      for (const job of queued) publishUpdate(deps.nats.nc, deps.names, updateFromJob(job));
    });
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

/**
 * The same key twice in one batch: one job, of one type. Answers the jobs to insert and the first job of each
 * key, or an error for each later input that gives a key with another type.
 */
function firstOfEachKey(
  jobs: NewJob[],
  at: (i: number) => string[],
): { unique: NewJob[]; firstByKey: Map<string, NewJob> } | { errors: UserError[] } {
  const firstByKey = new Map<string, NewJob>();
  const firstIndex = new Map<string, number>();
  const errors: UserError[] = [];
  const unique = jobs.filter((j, i) => {
    if (j.idempotencyKey === null) return true;
    const first = firstByKey.get(j.idempotencyKey);
    if (first) {
      if (first.type !== j.type) errors.push(keyReused(at(i), j, `the job of input ${firstIndex.get(j.idempotencyKey)}`, first.type));
      return false;
    }
    firstByKey.set(j.idempotencyKey, j);
    firstIndex.set(j.idempotencyKey, i);
    return true;
  });
  return errors.length ? { errors } : { unique, firstByKey };
}

/** An error for each input whose key `holder` finds on a job of another type. */
const keysOfOtherTypes = (
  jobs: NewJob[],
  at: (i: number) => string[],
  holder: (key: string) => { id: string; type: string } | undefined,
): UserError[] =>
  jobs.flatMap((j, i) => {
    const other = j.idempotencyKey === null ? undefined : holder(j.idempotencyKey);
    return other && other.type !== j.type ? [keyReused(at(i), j, `job ${other.id}`, other.type)] : [];
  });

/** The job among `jobs` that holds a key. */
const holderAmong = (jobs: readonly KeyedJobRow[]) => {
  const byKey = new Map(jobs.map((j) => [j.idempotencyKey!, j]));
  return (key: string) => byKey.get(key);
};

/** An idempotency key that names a job of another type: refused, never answered with that job. */
const keyReused = (at: string[], j: NewJob, holder: string, type: string): UserError => ({
  code: UserErrorCode.IDEMPOTENCY_KEY_REUSED,
  field: [...at, 'idempotencyKey'],
  message: `idempotencyKey ${JSON.stringify(j.idempotencyKey)} names ${holder}, of type ${type}, not ${j.type}`,
});

/** Runs a database call; a lost connection is SERVICE_UNAVAILABLE. */
async function unavailableIfDown<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isConnectionError(e)) throw new ServiceUnavailableError('the database', e);
    throw e;
  }
}

/**
 * `submitJobs(inputs)`: up to MAX_BATCH_SIZE jobs, all or nothing, in one statement. Errors name the input by
 * its index (`["inputs", "3", "payload", "ms"]`).
 */
export async function submitBatch(
  deps: JobDeps,
  viewer: Viewer,
  inputs: SubmitInput[],
): Promise<SubmitResult> {
  if (inputs.length > MAX_BATCH_SIZE) {
    return refusedByInput([{ code: UserErrorCode.OUT_OF_RANGE, field: ['inputs'], message: `at most ${MAX_BATCH_SIZE} jobs per call; got ${inputs.length}` }]);
  }
  if (inputs.length === 0) return { jobs: [], userErrors: [], refused: false };
  return submitJobs(deps, viewer, inputs, (i) => ['inputs', String(i)]);
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
