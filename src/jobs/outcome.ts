/**
 * How an attempt ended → what the worker does: the ack verb for JetStream and the job's next state.
 * Pure; the runner only applies it.
 */
import { inspect } from 'node:util';
import { isPermanentJobError } from '../errors.js';
import { storableText } from './payload-check.js';
import type { BackoffPolicy } from './definition.js';
import { retryDelay } from './backoff.js';

export type AttemptEnd =
  | { kind: 'returned'; result: unknown }
  | { kind: 'threw'; error: unknown }
  | { kind: 'cancelled' }
  /** The worker is stopping and its grace period ran out. */
  | { kind: 'shutdown' };

export type Outcome =
  | { verb: 'ack'; state: 'SUCCEEDED'; result: unknown }
  | { verb: 'ack'; state: 'CANCELLED' }
  | { verb: 'nak'; state: 'RETRYING'; delayMs: number; error: string }
  /** Copy to the dead-letter stream, then term(). */
  | { verb: 'term'; state: 'FAILED'; error: string }
  | { verb: 'nak'; state: 'QUEUED'; delayMs: 0 };

/**
 * The text stored for what an attempt threw: an Error's message, a string, or the value's JSON; a value with
 * no JSON (a BigInt, a circular object) as `util.inspect` shows it. Never throws: the outcome must be written.
 */
export const errorMessage = (e: unknown): string =>
  storableText((e instanceof Error ? e.message : typeof e === 'string' ? e : jsonOrInspect(e)) || 'error');

function jsonOrInspect(e: unknown): string {
  try {
    return JSON.stringify(e) ?? '';
  } catch {
    return inspect(e, { depth: 2, breakLength: Infinity });
  }
}

export function classifyOutcome(end: AttemptEnd, attempt: number, maxAttempts: number, backoff: BackoffPolicy): Outcome {
  switch (end.kind) {
    case 'returned':
      return { verb: 'ack', state: 'SUCCEEDED', result: end.result };
    case 'cancelled':
      return { verb: 'ack', state: 'CANCELLED' };
    case 'shutdown':
      return { verb: 'nak', state: 'QUEUED', delayMs: 0 };
    case 'threw': {
      const error = errorMessage(end.error);
      if (isPermanentJobError(end.error)) return { verb: 'term', state: 'FAILED', error };
      if (attempt >= maxAttempts) return { verb: 'term', state: 'FAILED', error };
      return { verb: 'nak', state: 'RETRYING', delayMs: retryDelay(backoff, attempt), error };
    }
  }
}
