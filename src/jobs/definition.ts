/**
 * A job type is defined once: name, payload schema, defaults. The API validates submits against these
 * definitions and the workers bind their handlers to the same objects (`workers/registry.ts`).
 */
import { z } from 'zod';

/**
 * Delay before attempt n+1: `min(maxMs, baseMs * factor^(n-1))`, then ± `jitter` of it at random. Checked by
 * `defineJobType`: delays are whole milliseconds up to 2^31 - 1 (24.8 days).
 */
export interface BackoffPolicy {
  /** @default 1000 */
  baseMs: number;
  /** 1 or more. @default 2 */
  factor: number;
  /** @default 60000 */
  maxMs: number;
  /** Fraction of the delay to randomise, 0..1. @default 0.2 */
  jitter: number;
}

export interface JobType<P = unknown> {
  /** Name clients submit with: lowercase words separated by dots, e.g. `video.transcode`. */
  name: string;
  description: string;
  /** Payload schema; submits are refused with INVALID_PAYLOAD unless it parses. */
  payload: z.ZodType<P>;
  /** 1..100. @default 3 */
  maxAttempts: number;
  /**
   * Per-attempt timeout, 100 ms to 24.8 days (2^31 - 1 ms); a handler running longer is aborted and the
   * attempt fails (retryable). @default 600000
   */
  timeoutMs: number;
  backoff: BackoffPolicy;
  /**
   * The consumer's max-deliver for this type: deliveries of one message (naks, AckWait expiries, crashes)
   * before JetStream gives up on it and raises MAX_DELIVERIES. Also the ceiling of per-job `maxAttempts`.
   * @default 100
   */
  maxDeliver: number;
  /**
   * `max` jobs of the type start per `perMs`, counted across every worker process together (in PostgreSQL:
   * `workers/rate-limit.ts`), at most `burst` (default `max`) at once; none when absent. Integers: `max`
   * 1..100000, `perMs` 1..86400000, `burst` 1..max.
   */
  rateLimit?: Required<RateLimit>;
}

/**
 * A job type's rate of starts: a bucket of `burst` starts (default `max`) that refills at `max` per `perMs`
 * (one every `perMs / max`). An idle type starts up to `burst` at once, then one every `perMs / max`.
 */
export interface RateLimit {
  max: number;
  perMs: number;
  /**
   * The most that start at once after an idle spell, 1..max (default max). Over any W ms at most about
   * `burst + W·max/perMs` start: 1 spaces the starts evenly, for a service that counts a strict sliding window.
   */
  burst?: number;
}

/** A rate limit as `queueStats` and `jobTypes` show it: the one in force, and whether an admin's override it is. */
export interface EffectiveRateLimit extends Required<RateLimit> {
  overridden: boolean;
}

/**
 * The rate limit in force for a type: an admin's `override` (setJobTypeRateLimit) when set, else its
 * definition's; null for a type without one (its workers take no tokens, so an override left behind holds nothing).
 */
export function effectiveRateLimit(code: JobType['rateLimit'], override: Required<RateLimit> | undefined): EffectiveRateLimit | null {
  if (!code) return null;
  const l = override ?? code;
  return { max: l.max, perMs: l.perMs, burst: l.burst, overridden: override !== undefined };
}

/** Whether `v` is an integer in the range. */
export const inRange = (v: number, r: { min: number; max: number }): boolean => Number.isInteger(v) && v >= r.min && v <= r.max;

/** Range of a rate limit's `max`. */
export const RATE_LIMIT_MAX_RANGE = { min: 1, max: 100_000 } as const;
/** Range of a rate limit's `perMs`: up to a day. */
export const RATE_LIMIT_PER_MS_RANGE = { min: 1, max: 86_400_000 } as const;

export const JOB_TYPE_NAME = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$/;
/** Range of per-job `maxAttempts`. */
export const MAX_ATTEMPTS_RANGE = { min: 1, max: 100 } as const;
/**
 * The most `maxAttempts` a job of the type may have (JobType.maxAttempts): MAX_ATTEMPTS_RANGE's, or the
 * type's `maxDeliver` when fewer (each attempt takes a delivery).
 */
export const maxAttemptsOf = (type: Pick<JobType, 'maxDeliver'>): number => Math.min(MAX_ATTEMPTS_RANGE.max, type.maxDeliver);
/**
 * Range of a timeout in milliseconds: the upper bound (24.8 days) is both the `timeout_ms` column's (int4)
 * and the longest delay `setTimeout` keeps (a longer one fires at once).
 */
export const TIMEOUT_RANGE = { min: 100, max: 2_147_483_647 } as const;
/**
 * Why a job's per-attempt timeout is refused for its type (a submit's `timeoutMs`, a replay's), or null: it
 * must be a whole number from TIMEOUT_RANGE.min to the type's current timeout.
 */
export function timeoutProblem(type: Pick<JobType, 'timeoutMs'>, timeoutMs: number): string | null {
  if (Number.isInteger(timeoutMs) && timeoutMs >= TIMEOUT_RANGE.min && timeoutMs <= type.timeoutMs) return null;
  return `timeoutMs must be between ${TIMEOUT_RANGE.min} and ${type.timeoutMs}`;
}
/** Longest backoff delay (`baseMs`, `maxMs`): the RETRYING write's delay column is an int4 too. */
export const MAX_DELAY_MS = 2_147_483_647;

type Options<P> = Pick<JobType<P>, 'name' | 'description' | 'payload'> &
  Partial<Omit<JobType<P>, 'name' | 'description' | 'payload' | 'backoff' | 'rateLimit'>> & { backoff?: Partial<BackoffPolicy>; rateLimit?: RateLimit };

/**
 * @example
 * export const resizeJob = defineJobType({
 *   name: 'image.resize',
 *   description: 'Resizes an image',
 *   payload: z.object({ url: z.url(), width: z.number().int().positive() }),
 *   maxAttempts: 5,
 *   rateLimit: { max: 10, perMs: 1000 }, // optional: at most 10 start per second, across all workers
 * });
 */
export function defineJobType<P>(o: Options<P>): JobType<P> {
  if (!JOB_TYPE_NAME.test(o.name)) throw new Error(`invalid job type name ${JSON.stringify(o.name)}`);
  const maxDeliver = o.maxDeliver ?? 100;
  const def: JobType<P> = {
    name: o.name,
    description: o.description,
    payload: o.payload,
    maxAttempts: o.maxAttempts ?? 3,
    timeoutMs: o.timeoutMs ?? 600_000,
    maxDeliver,
    backoff: { baseMs: 1000, factor: 2, maxMs: 60_000, jitter: 0.2, ...o.backoff },
    ...(o.rateLimit && { rateLimit: Object.freeze({ max: o.rateLimit.max, perMs: o.rateLimit.perMs, burst: o.rateLimit.burst ?? o.rateLimit.max }) }),
  };
  // Checked here, where the type is written: otherwise every submit of it would be refused or fail.
  if (!inRange(def.timeoutMs, TIMEOUT_RANGE)) {
    throw new Error(`${o.name}: timeoutMs must be an integer from ${TIMEOUT_RANGE.min} to ${TIMEOUT_RANGE.max} (24.8 days)`);
  }
  if (!inRange(def.maxAttempts, MAX_ATTEMPTS_RANGE)) {
    throw new Error(`${o.name}: maxAttempts must be an integer from ${MAX_ATTEMPTS_RANGE.min} to ${MAX_ATTEMPTS_RANGE.max}`);
  }
  if (def.maxAttempts > maxDeliver) throw new Error(`${o.name}: maxAttempts exceeds maxDeliver`);
  checkBackoff(o.name, def.backoff);
  if (def.rateLimit && !(inRange(def.rateLimit.max, RATE_LIMIT_MAX_RANGE) && inRange(def.rateLimit.perMs, RATE_LIMIT_PER_MS_RANGE))) {
    throw new Error(
      `${o.name}: rateLimit needs integers max from ${RATE_LIMIT_MAX_RANGE.min} to ${RATE_LIMIT_MAX_RANGE.max} and perMs from ` +
        `${RATE_LIMIT_PER_MS_RANGE.min} to ${RATE_LIMIT_PER_MS_RANGE.max} (a day)`,
    );
  }
  if (def.rateLimit && !inRange(def.rateLimit.burst, { min: 1, max: def.rateLimit.max })) {
    throw new Error(`${o.name}: rateLimit.burst must be an integer from 1 to its max (${def.rateLimit.max})`);
  }
  return Object.freeze(def);
}

/**
 * A backoff whose delays a RETRYING write can hold (its delay is an int4, as setTimeout's) and that grows:
 * otherwise the write of a failed attempt fails, the job stays RUNNING with no error recorded, and its next
 * attempt comes after AckWait instead of the backoff.
 */
function checkBackoff(name: string, b: BackoffPolicy): void {
  const delay = (v: number) => Number.isInteger(v) && v >= 0 && v <= MAX_DELAY_MS;
  if (!delay(b.baseMs) || !delay(b.maxMs)) {
    throw new Error(`${name}: backoff baseMs and maxMs must be integers from 0 to ${MAX_DELAY_MS} (24.8 days)`);
  }
  if (!(Number.isFinite(b.factor) && b.factor >= 1)) throw new Error(`${name}: backoff factor must be a number from 1 up`);
  if (!(b.jitter >= 0 && b.jitter <= 1)) throw new Error(`${name}: backoff jitter must be a fraction from 0 to 1`);
}

/**
 * The JSON Schema of what a client may submit as the type's payload (the `jobTypes` query): the schema's
 * input side, so a field with a default is optional, as `submitJob` treats it (zod's default, the output
 * side, lists it as required).
 */
export const payloadJsonSchema = (t: JobType): unknown => z.toJSONSchema(t.payload, { io: 'input', unrepresentable: 'any' });

/** Job types by name: what a process serves (`JobDeps.types`). */
export const typesByName = (types: readonly JobType[]): ReadonlyMap<string, JobType> => new Map(types.map((t) => [t.name, t]));

/**
 * Parses a payload with its type's schema, asynchronously: a schema may check asynchronously (an async
 * refinement or transform: a lookup), and whether it does cannot be told without running it. A synchronous
 * parse tried first would call such a check before zod refuses it, so each parse would run it twice, and a
 * rejection of that first call (the lookup failing) would go unhandled and end the process. The one way
 * submits and workers read a payload.
 */
export const parsePayload = <P>(type: JobType<P>, payload: unknown): Promise<z.ZodSafeParseResult<P>> => type.payload.safeParseAsync(payload);
