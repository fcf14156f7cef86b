/**
 * What a job handler sees, and how one is bound to its job type.
 */
import type { JobType } from '../src/jobs/definition.js';
import type { Logger } from '../src/log.js';

export interface JobContext {
  jobId: string;
  /** 1-based attempt number in the current attempt series. */
  attempt: number;
  maxAttempts: number;
  /**
   * Aborted when the job is cancelled, times out, or the worker is stopping and the grace period ran out.
   * Stop promptly: the outcome is decided when it aborts, whatever the handler does afterwards.
   */
  signal: AbortSignal;
  /**
   * Reports progress, 0..100 (less is 0, more or Infinity 100, NaN or below about 1e-45 0), with an optional
   * message (null: none).
   * Published at once; recorded in PostgreSQL throttled.
   */
  progress(percent: number, message?: string): void;
  log: Logger;
}

/** A handler returns the job's result (any JSON value) or throws (retryable, or `PermanentJobError`). */
export type Handler<P> = (payload: P, ctx: JobContext) => Promise<unknown> | unknown;

export interface BoundHandler<P = any> {
  type: JobType<P>;
  run: Handler<P>;
  /**
   * Handlers of this type one worker process runs at once, 1..1000, instead of WORKER_CONCURRENCY (which
   * WORKER_TYPE_CONCURRENCY overrides in turn): fewer for a type that takes a core or a scarce connection each.
   */
  concurrency?: number;
}

export interface HandlerOptions {
  /** See `BoundHandler.concurrency`. */
  concurrency?: number;
}

/**
 * @example
 * export default defineHandler(resizeJob, async ({ url, width }, ctx) => {
 *   ctx.progress(50, 'downloaded');
 *   return { url: await resize(url, width, ctx.signal) };
 * }, { concurrency: 2 });   // optional: at most 2 at once per worker process (default WORKER_CONCURRENCY)
 */
export function defineHandler<P>(type: JobType<P>, run: Handler<P>, options: HandlerOptions = {}): BoundHandler<P> {
  const { concurrency } = options;
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 1000)) {
    throw new Error(`${type.name}: a handler's concurrency must be an integer from 1 to 1000`);
  }
  return concurrency === undefined ? { type, run } : { type, run, concurrency };
}

/** The longest delay one Node timer holds (a longer one fires after 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Resolves after `ms` (longer than a Node timer holds too: 2^31 - 1 ms at a time), or rejects with the
 * signal's reason when it aborts first.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    let left = ms;
    let t: NodeJS.Timeout;
    const wait = () => {
      const step = Math.min(left, MAX_TIMER_MS);
      left -= step;
      t = setTimeout(left > 0 ? wait : done, step);
    };
    const done = () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    wait();
  });
}
