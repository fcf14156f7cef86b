/**
 * Checking one submit's input against its job type's definition: the type exists, the payload is storable,
 * within size and accepted by the type's schema, and maxAttempts, timeoutMs, idempotencyKey, runAt, startBy and notify
 * are in range. A refused input gets one user error per problem, each naming its field.
 */
import { newJobId } from './job-id.js';
import type { NewJob } from '../db/jobs.js';
import { validateNotify, type CheckedNotification, type NotifyInput } from '../notifications/validate.js';
import { UserErrorCode, type UserError } from '../errors.js';
import { MAX_ATTEMPTS_RANGE, maxAttemptsOf, parsePayload, timeoutProblem, type JobType } from './definition.js';
import type { JobDeps, Viewer } from './deps.js';
import { checkJson, isStorableText, jsonBytes, MAX_PAYLOAD_BYTES, MAX_PAYLOAD_DEPTH, nonFiniteNumberAt, quoted, unstorableMessage } from './payload-check.js';

/** The longest idempotency key, in characters. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
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
  /** No attempt starts after this instant: still waiting then, the job is FAILED `expired: …`. */
  startBy?: Date | null | undefined;
}

/** One input checked: the job to insert and its notifications, or why it is refused. */
export type Checked = { job: NewJob; notifications: CheckedNotification[] } | { errors: UserError[] };

/**
 * Checks one input; `at` is the path prefix of its fields (e.g. `['input']` or `['inputs', '3']`), and
 * `payloadBytes` its payload's size as {@link countPayloads} counted it (not counted again here).
 * Asynchronous: the payload's schema may check asynchronously (`parsePayload`).
 */
export async function validateSubmit(
  deps: Pick<JobDeps, 'types' | 'names' | 'notify'>,
  viewer: Viewer,
  input: SubmitInput,
  at: string[],
  payloadBytes: number,
): Promise<Checked> {
  const type = deps.types.get(input.type);
  if (!type) {
    return {
      errors: [{ code: UserErrorCode.UNKNOWN_JOB_TYPE, field: [...at, 'type'], message: `unknown job type ${quoted(input.type)}` }],
    };
  }
  const errors: UserError[] = [];
  const payload = input.payload ?? {};
  const payloadIssues = await payloadErrors(type, payload, payloadBytes, at);
  const maxAttempts = input.maxAttempts ?? type.maxAttempts;
  const ceiling = maxAttemptsOf(type);
  if (!Number.isInteger(maxAttempts) || maxAttempts < MAX_ATTEMPTS_RANGE.min || maxAttempts > ceiling) {
    errors.push({ code: UserErrorCode.OUT_OF_RANGE, field: [...at, 'maxAttempts'], message: `maxAttempts must be between ${MAX_ATTEMPTS_RANGE.min} and ${ceiling}` });
  }
  const timeoutMs = input.timeoutMs ?? type.timeoutMs;
  const timeoutRefused = timeoutProblem(type, timeoutMs);
  if (timeoutRefused) errors.push({ code: UserErrorCode.OUT_OF_RANGE, field: [...at, 'timeoutMs'], message: timeoutRefused });
  const key = input.idempotencyKey ?? null;
  if (key !== null && (key.length === 0 || characters(key, MAX_IDEMPOTENCY_KEY_LENGTH) > MAX_IDEMPOTENCY_KEY_LENGTH || !isStorableText(key))) {
    errors.push({ code: UserErrorCode.OUT_OF_RANGE, field: [...at, 'idempotencyKey'], message: `idempotencyKey must be 1..${MAX_IDEMPOTENCY_KEY_LENGTH} characters, none of them NUL or an unpaired surrogate` });
  }
  const runAt = scheduledAt(input.runAt);
  if (runAt === 'out-of-range') errors.push({ code: UserErrorCode.OUT_OF_RANGE, field: [...at, 'runAt'], message: RUN_AT_OUT_OF_RANGE });
  const startBy = input.startBy ?? null;
  const startByRefused = startBy && startByProblem(startBy, runAt instanceof Date ? runAt : null);
  if (startByRefused) errors.push({ code: UserErrorCode.OUT_OF_RANGE, field: [...at, 'startBy'], message: startByRefused });
  const notify = validateNotify(input.notify, deps.notify, [...at, 'notify']);
  if ('errors' in notify) errors.push(...notify.errors);
  if (payloadIssues.length || errors.length) return { errors: [...payloadIssues, ...errors] };
  return {
    notifications: 'notifications' in notify ? notify.notifications : [],
    job: {
      id: newJobId(),
      owner: viewer.owner,
      type: type.name,
      payload,
      maxAttempts,
      timeoutMs,
      idempotencyKey: key,
      traceparent: input.traceparent ?? null,
      subject: deps.names.jobSubject(type.name),
      runAt: runAt as Date | null,
      startBy,
    },
  };
}

/**
 * The payload bytes (JSON text) the submits of one GraphQL operation may still write, shared by all its
 * `submitJob` and `submitJobs` fields: `limit` in all, the largest request the server reads. A request within
 * the server's size limit carries its payloads written out, so only one that writes a payload many times over
 * gets near it: one GraphQL variable in every input of a batch (a 135 KB request stored 100 MB), or in up to
 * GRAPHQL_MAX_ALIASES aliased `submitJobs` fields, each within the limit alone (60 MiB).
 */
export interface PayloadBudget {
  readonly limit: number;
  /** What is left of `limit`: the payloads of the operation's submits written so far are taken from it. */
  left: number;
}

export const payloadBudget = (limit: number): PayloadBudget => ({ limit, left: limit });

/** The payloads of one submit field, each counted once: within what the operation's budget left, or why not. */
export type CountedPayloads = { bytes: number[]; total: number } | { errors: UserError[] };

/**
 * Counts the payloads of `inputs` (JSON text, {@link jsonBytes}) once each, in order, before anything else is
 * checked: `bytes` (one per input, for validateSubmit) and their `total` (to take from `budget` once written).
 * Each is counted no further than just past MAX_PAYLOAD_BYTES or what `budget` leaves it, whichever is more,
 * and the count stops at the payload that takes the total past what `budget` left: the walk stays within
 * about that plus MAX_PAYLOAD_BYTES, whatever the payloads write out. Stopped so, the field is refused whole
 * (`errors`): OUT_OF_RANGE on each payload counted past MAX_PAYLOAD_BYTES (its own error, whatever the budget),
 * or, when none is, on `field` ({@link overBudget}). `at(i)` is input `i`'s path prefix.
 */
export function countPayloads(budget: PayloadBudget, inputs: readonly SubmitInput[], at: (i: number) => string[], field: string[]): CountedPayloads {
  const bytes: number[] = [];
  let total = 0;
  for (const input of inputs) {
    if (total > budget.left) break;
    const b = jsonBytes(input.payload ?? {}, Math.max(MAX_PAYLOAD_BYTES, budget.left - total));
    bytes.push(b);
    total += b;
  }
  if (total <= budget.left) return { bytes, total };
  const tooLarge = bytes.flatMap((b, i) => (b > MAX_PAYLOAD_BYTES ? [payloadTooLarge(at(i))] : []));
  return { errors: tooLarge.length ? tooLarge : [overBudget(budget, field, inputs.length)] };
}

/**
 * The user error (OUT_OF_RANGE on `field`) of a submit field whose `inputs` payloads do not fit in what is left
 * of the operation's `budget`: past all of it alone (nothing written before it), or with the fields written before.
 */
function overBudget(budget: PayloadBudget, field: string[], inputs: number): UserError {
  const message =
    budget.left < budget.limit
      ? `the payloads of this operation's submits are more than ${budget.limit} bytes together (as JSON text), the most one request may carry; send them in separate operations`
      : inputs > 1
        ? `the payloads of one call are more than ${budget.limit} bytes together (as JSON text), the most one request may carry; send fewer inputs per call`
        : `the payload is more than ${budget.limit} bytes as JSON text, the most one request may carry`;
  return { code: UserErrorCode.OUT_OF_RANGE, field, message };
}

/** The user error of a payload past MAX_PAYLOAD_BYTES (OUT_OF_RANGE on its `payload`); `at`: its input's path prefix. */
function payloadTooLarge(at: string[]): UserError {
  const message = `payload is more than ${MAX_PAYLOAD_BYTES} bytes as JSON text, the most one payload may be`;
  return { code: UserErrorCode.OUT_OF_RANGE, field: [...at, 'payload'], message };
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
 * Why a submit's `startBy` is refused (OUT_OF_RANGE), null when it is accepted: in the future (by this
 * machine's clock; the claim and the expiry judge it by PostgreSQL's), at most MAX_RUN_AT_DAYS ahead, and
 * after the job's `runAt` (null: none, or one not in the future).
 */
export function startByProblem(startBy: Date, runAt: Date | null): string | null {
  const ms = startBy.getTime();
  const now = Date.now();
  if (!(ms > now)) return 'startBy must be in the future'; // NaN included
  if (ms > now + MAX_RUN_AT_DAYS * 86_400_000) return `startBy must be at most ${MAX_RUN_AT_DAYS} days ahead`;
  if (runAt && ms <= runAt.getTime()) return `startBy must be after runAt (${runAt.toISOString()})`;
  return null;
}

/**
 * How many characters (Unicode code points, as PostgreSQL counts a text's length) `s` has, counted up to just
 * past `max`: an emoji is one character and two UTF-16 code units (`s.length`).
 */
export function characters(s: string, max: number): number {
  if (s.length <= max) return s.length;
  let n = 0;
  for (const _ of s) if (++n > max) break;
  return n;
}

/**
 * Why a payload is refused (within MAX_PAYLOAD_BYTES, storable, then its type's schema); empty: accepted. The
 * size first, from `bytes` ({@link countPayloads}, which counts no further than its limits): a GraphQL
 * variable written many times in one payload (`{ a: [$p, $p, …] }`) makes a value far larger than the
 * request, which walking every copy and writing it out took long to refuse, the API's event loop held
 * meanwhile (a 100 KB variable of 50,000 numbers written 500 times: 11 s). Within the limit, the other checks
 * walk at most that many bytes' worth of values.
 */
async function payloadErrors(type: JobType, payload: unknown, bytes: number, at: string[]): Promise<UserError[]> {
  if (bytes > MAX_PAYLOAD_BYTES) return [payloadTooLarge(at)];
  const shape = checkJson(payload, MAX_PAYLOAD_DEPTH, Infinity, { finite: true });
  if (shape === 'too-deep') return [{ code: UserErrorCode.OUT_OF_RANGE, field: [...at, 'payload'], message: unstorableMessage('payload', shape) }];
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
