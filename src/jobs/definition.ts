/**
 * A job type is defined once: name, payload schema, defaults. The API validates submits against these
 * definitions and the workers bind their handlers to the same objects (`workers/registry.ts`).
 */
import { z } from 'zod';

/** Delay before attempt n+1: `min(maxMs, baseMs * factor^(n-1))`, then ± `jitter` of it at random. */
export interface BackoffPolicy {
  /** @default 1000 */
  baseMs: number;
  /** @default 2 */
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
  /** @default 3 */
  maxAttempts: number;
  /** Per-attempt timeout; a handler running longer is aborted and the attempt fails (retryable). @default 600000 */
  timeoutMs: number;
  backoff: BackoffPolicy;
  /**
   * The consumer's max-deliver for this type: deliveries of one message (naks, AckWait expiries, crashes)
   * before JetStream gives up on it and raises MAX_DELIVERIES. Also the ceiling of per-job `maxAttempts`.
   * @default 100
   */
  maxDeliver: number;
}

export const JOB_TYPE_NAME = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$/;
/** Range of per-job `maxAttempts`. */
export const MAX_ATTEMPTS_RANGE = { min: 1, max: 100 } as const;

type Options<P> = Pick<JobType<P>, 'name' | 'description' | 'payload'> &
  Partial<Omit<JobType<P>, 'name' | 'description' | 'payload' | 'backoff'>> & { backoff?: Partial<BackoffPolicy> };

/**
 * @example
 * export const resizeJob = defineJobType({
 *   name: 'image.resize',
 *   description: 'Resizes an image',
 *   payload: z.object({ url: z.url(), width: z.number().int().positive() }),
 *   maxAttempts: 5,
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
  };
  if (def.maxAttempts > maxDeliver) throw new Error(`${o.name}: maxAttempts exceeds maxDeliver`);
  return Object.freeze(def);
}

/** The JSON Schema of a type's payload (shown by the `jobTypes` query). */
export const payloadJsonSchema = (t: JobType): unknown => z.toJSONSchema(t.payload, { unrepresentable: 'any' });
