/**
 * Signal handling shared by the entry points: the first SIGTERM/SIGINT runs the graceful `stop`, then the
 * process exits 0 (1 if stopping failed); a second signal exits at once.
 */
import { isConnectionError } from './errors.js';
import type { Logger } from './log.js';

export function stopOnSignals(stop: () => Promise<void>, log: Logger): void {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    log.info({ signal }, 'stopping: no new jobs; running jobs get the grace period');
    stop().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: e }, 'graceful stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Prints a start-up failure as one line and exits 1. */
export function exitWithError(what: string, e: unknown): never {
  process.stderr.write(`${what}: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}

/**
 * postgres.js 3.4.9 can throw from a `setImmediate` after a connection closed under it ("Cannot read
 * properties of null (reading 'write')" in `nextWrite`; porsager/postgres#1154, #1208, fixes #1176/#1209
 * not released). The query that write belonged to has already been rejected with CONNECTION_CLOSED (and is
 * retried by our callers), so that one error is logged and survived; any other uncaught exception still
 * ends the process. Likewise an unhandled rejection from a new connection's type query that PostgreSQL
 * closed (`isPostgresTypeFetchReset`); any other unhandled rejection ends the process, as Node's default does.
 */
export function survivePostgresDriverRace(log: Logger): void {
  process.on('unhandledRejection', (reason) => {
    if (!isPostgresTypeFetchReset(reason)) throw reason; // to uncaughtException below: the process ends
    log.warn({ err: reason }, 'postgres.js lost a new connection while it read the server\'s types (known driver gap); the next query connects again');
  });
  process.on('uncaughtException', (err) => {
    if (isPostgresNullSocketWrite(err)) {
      log.warn({ err }, 'postgres.js wrote to a closed connection (known driver race); the query was already failed and retried');
      return;
    }
    log.fatal({ err }, 'uncaught exception');
    process.stderr.write(`${err.stack ?? String(err)}\n`);
    process.exit(1);
  });
}

export const isPostgresNullSocketWrite = (err: unknown): boolean =>
  err instanceof TypeError &&
  /reading 'write'/.test(err.message) &&
  /postgres[\\/]src[\\/]connection\.js/.test(err.stack ?? '') &&
  /nextWrite/.test(err.stack ?? '');

/**
 * postgres.js 3.4.9 reads the server's array types on each new connection from a handler that drops the
 * promise (`return fetchArrayTypes()` in its ReadyForQuery): when PostgreSQL closes the connection during
 * that query (a restart, a failover), the rejection is unhandled, and Node would end the process. The
 * connection is gone; the query that opened it is failed as for any lost connection (our callers retry),
 * and the next query connects again, reading the types then.
 */
export const isPostgresTypeFetchReset = (err: unknown): boolean =>
  isConnectionError(err) && /from pg_catalog\.pg_type a\b/.test(String((err as { query?: unknown } | null)?.query ?? ''));
