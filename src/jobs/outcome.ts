/**
 * How an attempt ended → what the worker does: the ack verb for JetStream and the job's next state.
 * Pure; the runner only applies it.
 */
import { inspect } from 'node:util';
import { isAnyError, isPermanentJobError } from '../errors.js';
import { storableText } from './payload-check.js';
import type { BackoffPolicy } from './definition.js';
import { retryDelay } from './backoff.js';

export type AttemptEnd =
  | { kind: 'returned'; result: unknown }
  | { kind: 'threw'; error: unknown }
  | { kind: 'cancelled' }
  /**
   * Handed back unfinished: the worker is stopping (its grace period ran out, or the job had not started), or
   * the job's type was paused before the job started (it waited in the local queue).
   */
  | { kind: 'handedBack'; why: HandBack };

/** Why a worker hands a job back (QUEUED again, the attempt not counted). */
export type HandBack = 'shutdown' | 'paused';

export type Outcome =
  | { verb: 'ack'; state: 'SUCCEEDED'; result: unknown }
  | { verb: 'ack'; state: 'CANCELLED' }
  | { verb: 'nak'; state: 'RETRYING'; delayMs: number; error: string }
  /** Copy to the dead-letter stream, then term(). */
  | { verb: 'term'; state: 'FAILED'; error: string }
  | { verb: 'nak'; state: 'QUEUED'; delayMs: number; why: HandBack };

/** How many causes deep an error's text follows its `cause` (and an AggregateError's `errors`). */
export const MAX_CAUSE_DEPTH = 5;
/** How many errors, causes and aggregated ones together, one error's text names at most. */
const MAX_ERRORS_NAMED = 20;

/**
 * The text stored for what an attempt threw: an Error's message (an Error of another realm's too), a string,
 * or the value's JSON; a value with no JSON (a BigInt, a circular object, a Symbol) as `util.inspect` shows
 * it. An Error's message that is no string (a Symbol, an object, a number: JavaScript allows any) is shown the
 * same way, and one that cannot be read at all (a getter that throws) is named with what it threw. An Error's
 * `cause` follows its message after `: `, down to {@link MAX_CAUSE_DEPTH} causes (`fetch failed: connect
 * ECONNREFUSED 127.0.0.1:1234`), an AggregateError's errors after it, separated by `; `; a cause whose text
 * the message holds already is not repeated. An Error with no text at all is named by its class
 * (`TypeError`, `RateLimited`). Never throws: the outcome must be written.
 */
export const errorMessage = (e: unknown): string => storableText(chainText(e, 0, { seen: new Set(), named: 0 }) || (isAnyError(e) ? errorClass(e) : 'error'));

interface ChainWalk {
  /** The errors named so far (a cause that is its own cause's cause is named once). */
  seen: Set<unknown>;
  named: number;
}

/** `e`'s own text, then its aggregated errors' and its cause's, each followed as deep as the bounds allow. */
function chainText(e: unknown, depth: number, walk: ChainWalk): string {
  walk.seen.add(e);
  walk.named++;
  let text = thrownText(e);
  if (!isAnyError(e) || depth >= MAX_CAUSE_DEPTH) return text;
  const inner = (v: unknown) => (walk.seen.has(v) || walk.named >= MAX_ERRORS_NAMED ? '' : chainText(v, depth + 1, walk));
  const aggregated = aggregatedErrors(e).map(inner).filter(Boolean).join('; ');
  if (aggregated) text = text ? `${text} (${aggregated})` : aggregated;
  const cause = safely(() => e.cause, undefined);
  if (cause === undefined || cause === null) return text;
  const causeText = inner(cause);
  return !causeText || text.includes(causeText) ? text : text ? `${text}: ${causeText}` : causeText;
}

/** An AggregateError's errors (of any realm); none for any other error, or when they cannot be read. */
function aggregatedErrors(e: Error): unknown[] {
  if (!(e instanceof AggregateError) && errorName(e) !== 'AggregateError') return [];
  const errors = safely(() => (e as AggregateError).errors, undefined);
  return Array.isArray(errors) ? errors : [];
}

/** One thrown value's own text, its cause left out. */
function thrownText(e: unknown): string {
  let message: unknown = e;
  try {
    if (isAnyError(e)) message = e.message;
  } catch (reading) {
    return `${errorName(e)} (its message could not be read: ${describe(reading instanceof Error ? safely(() => reading.message, '') : reading)})`;
  }
  return describe(message);
}

/** A string as it is; anything else as JSON, or as `util.inspect` shows it when it has none. */
function describe(v: unknown): string {
  if (typeof v === 'string') return v;
  return safely(() => JSON.stringify(v), undefined) ?? safely(() => inspect(v, { depth: 2, breakLength: Infinity }), 'unreadable value');
}

/** The Error's name (its class), or `Error` when even that cannot be read. */
const errorName = (e: unknown): string => {
  const name = safely(() => (e as Error).name, null);
  return typeof name === 'string' && name ? name : 'Error';
};

/**
 * What names an Error that says nothing else (`new TypeError()`, `class RateLimited extends Error {}` thrown
 * without a message): its name, or its class when the name is the inherited `Error`.
 */
function errorClass(e: Error): string {
  const name = errorName(e);
  const constructorName = safely(() => e.constructor.name, null);
  return name === 'Error' && typeof constructorName === 'string' && constructorName ? constructorName : name;
}

function safely<T, F>(read: () => T, fallback: F): T | F {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/** A PermanentJobError, by class or by name; an error whose name cannot be read is not one. */
const isPermanent = (e: unknown): boolean => safely(() => isPermanentJobError(e), false);

/** `handBackDelayMs`: how long a job handed back stays out of reach (until its worker's pull has ended). */
export function classifyOutcome(end: AttemptEnd, attempt: number, maxAttempts: number, backoff: BackoffPolicy, handBackDelayMs = 0): Outcome {
  switch (end.kind) {
    case 'returned':
      return { verb: 'ack', state: 'SUCCEEDED', result: end.result };
    case 'cancelled':
      return { verb: 'ack', state: 'CANCELLED' };
    case 'handedBack':
      return { verb: 'nak', state: 'QUEUED', delayMs: handBackDelayMs, why: end.why };
    case 'threw': {
      const error = errorMessage(end.error);
      if (isPermanent(end.error)) return { verb: 'term', state: 'FAILED', error };
      if (attempt >= maxAttempts) return { verb: 'term', state: 'FAILED', error };
      return { verb: 'nak', state: 'RETRYING', delayMs: retryDelay(backoff, attempt), error };
    }
  }
}
