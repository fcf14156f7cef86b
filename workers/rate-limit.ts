/**
 * A rate-limited job type's tokens, as one pull loop asks for them (`runner.ts`): before each pull, tokens
 * for the messages it may bring (`take`); when it has ended, the ones it brought are paid for and the rest
 * given back (`settle`). The bucket is shared by every worker process, in PostgreSQL (src/db/rate-limits.ts).
 * With none to be had, the loop sleeps until one frees; with PostgreSQL unreachable it retries every second:
 * it never pulls without tokens. Messages are not held or nak'ed waiting for tokens: they wait in the stream.
 */
import type { Sql } from '../src/db/client.js';
import { settleTokens, takeTokens, type Grant, type Limit } from '../src/db/rate-limits.js';
import type { RateLimit } from '../src/jobs/definition.js';
import type { Logger } from '../src/log.js';
import { rateLimitWaits } from '../src/observability/metrics.js';

/**
 * How long tokens granted to a pull count as held without being settled (its worker died meanwhile): they
 * lapse within two of these. Well over a pull's life (PULL_EXPIRES_MS, a second, and its round trips).
 */
export const TOKEN_LEASE_MS = 15_000;

/** How soon a statement PostgreSQL failed is tried again. */
const RETRY_MS = 1000;

export interface Limiter {
  /** Up to `n` tokens (at least one), or null when `halted()` said to stop asking (stop, pause). */
  take(n: number): Promise<Grant | null>;
  /** The pull granted `grant` has ended, having brought `used` messages. */
  settle(grant: Grant, used: number): Promise<void>;
}

export interface LimiterOptions {
  sql: Sql;
  log: Logger;
  type: string;
  rateLimit: RateLimit;
  /** The loop is stopping or its type paused: stop asking for tokens. */
  halted(): boolean;
  /** The loop is stopping: stop trying to settle. */
  stopping(): boolean;
  /** Sleeps `ms`, or less when the loop is woken by a stop or a pause. */
  sleep(ms: number): Promise<void>;
}

export function createLimiter(o: LimiterOptions): Limiter {
  const limit: Limit = { ...o.rateLimit, leaseMs: TOKEN_LEASE_MS };
  let failing = false;
  /** Runs a statement until it succeeds (its answer), or until `giveUp()` says so after a failure (null). */
  async function retrying<T>(what: string, run: () => Promise<T>, giveUp: () => boolean): Promise<T | null> {
    for (;;) {
      try {
        const answer = await run();
        failing = false;
        return answer;
      } catch (e) {
        // Once per outage: an outage would otherwise log this every second.
        if (!failing) o.log.warn({ err: e, type: o.type }, `${what} failed (PostgreSQL unavailable?); starting none of its jobs, trying again every ${RETRY_MS} ms`);
        failing = true;
        if (giveUp()) return null;
        await o.sleep(RETRY_MS);
      }
    }
  }
  return {
    async take(n) {
      while (!o.halted()) {
        const grant = await retrying('taking rate-limit tokens', () => takeTokens(o.sql, o.type, n, limit), o.halted);
        if (!grant) return null;
        if (grant.granted > 0) return grant;
        rateLimitWaits.inc({ type: o.type });
        await o.sleep(grant.waitMs);
      }
      return null;
    },
    async settle(grant, used) {
      // Given up once the loop stops: the unused tokens then lapse with their lease, the used ones go unpaid.
      await retrying('settling rate-limit tokens', () => settleTokens(o.sql, o.type, grant, used, limit), o.stopping);
    },
  };
}
