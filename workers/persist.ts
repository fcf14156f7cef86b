/**
 * Writes to PostgreSQL that must not be dropped (claims, outcomes, progress milestones, hand-backs): retried
 * while PostgreSQL is unreachable, or when it rolled the write back to break a deadlock, with a backoff from
 * 200 ms to 5 s, until they go through or the worker's stop gives up on them (`abandon`). Any other error is
 * the caller's.
 */
import { isDatabaseUnavailable, isTransactionConflict } from '../src/errors.js';
import type { Logger } from '../src/log.js';

export interface Persist {
  /** Runs `fn`, again and again while PostgreSQL is unreachable; `what` names the write in the log. */
  <T>(what: string, fn: () => Promise<T>): Promise<T>;
}

export interface Persister {
  persist: Persist;
  /** A stop gave up waiting for PostgreSQL: writes still being retried fail with their last error. */
  abandon(): void;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createPersister(log: Logger): Persister {
  let abandoned = false;

  async function retryWrite<T>(what: string, fn: () => Promise<T>, error: unknown): Promise<T> {
    for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
      if (abandoned) throw error;
      if (isTransactionConflict(error)) log.warn({ err: error, what }, 'PostgreSQL rolled the write back (a deadlock or conflict); retrying it');
      else if (isDatabaseUnavailable(error)) log.warn({ err: error, what }, 'PostgreSQL unavailable; retrying the write');
      else throw error;
      await pause(delay);
      if (abandoned) throw error; // the stop gave up while this write slept
      try {
        return await fn();
      } catch (e) {
        error = e;
      }
    }
  }

  return {
    persist: (what, fn) => fn().catch((e: unknown) => retryWrite(what, fn, e)),
    abandon: () => void (abandoned = true),
  };
}
