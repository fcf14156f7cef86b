/**
 * Signal handling shared by the entry points: the first SIGTERM/SIGINT (or the `npm start` wrapper's exit)
 * runs the graceful `stop`, then the process exits 0 (1 if stopping failed); a second signal exits at once
 * (the same signal again within SAME_SIGNAL_MS is the first one delivered twice).
 */
import { isDatabaseUnavailable } from './errors.js';
import type { Logger } from './log.js';

/**
 * A repeat of the first signal this soon after it is the same request, not a second one: under a service
 * manager that signals every process of the service (systemd's KillMode=control-group), the app gets SIGTERM
 * from it and again from the `npm start` wrapper, which forwards its own.
 */
const SAME_SIGNAL_MS = 1000;

export function stopOnSignals(stop: () => Promise<void>, log: Logger): void {
  let signals = 0;
  let first: { signal: NodeJS.Signals; at: number } | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (first && signal === first.signal && Date.now() - first.at < SAME_SIGNAL_MS) return;
    first ??= { signal, at: Date.now() };
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
  // Started by `npm start` / `npm run worker` (scripts/start.mjs), the process has an IPC channel to that
  // wrapper. It closes when the wrapper dies without forwarding a signal (SIGKILL): stop as on SIGTERM,
  // rather than run on, orphaned, in the process group of our own that the wrapper gave us. Killed while we
  // stop (after it forwarded a signal), it is no second signal: the stop goes on. Killed while we started
  // (before this), the channel is gone already: `connected` is false (undefined without a channel at all).
  if (process.connected === false) {
    log.warn('the npm start wrapper is gone (its IPC channel closed while longrun started)');
    onSignal('SIGTERM');
  } else if (process.channel) {
    process.once('disconnect', () => {
      log.warn('the npm start wrapper is gone (its IPC channel closed)');
      if (signals === 0) onSignal('SIGTERM');
    });
    process.channel.unref(); // the channel alone does not keep the process alive
  }
}

/** Prints a start-up failure as one line and exits 1. */
export function exitWithError(what: string, e: unknown): never {
  process.stderr.write(`${what}: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}

/**
 * An unhandled rejection from a new connection's type query that PostgreSQL closed
 * (`isPostgresTypeFetchReset`) is logged and survived; any other unhandled rejection or uncaught exception
 * ends the process, as Node's default does. (postgres.js' uncaught null-socket write, porsager/postgres#1208,
 * is mended in the driver at install: scripts/patch-dependencies.mjs; so is the types read of a connection
 * closed during start-up, #1223, which leaves this rejection to a connection reserved by `sql.reserve()`
 * and to a release the mend does not know.)
 */
export function handleUncaughtErrors(log: Logger): void {
  process.on('unhandledRejection', (reason) => {
    if (!isPostgresTypeFetchReset(reason)) throw reason; // to uncaughtException below: the process ends
    log.warn({ err: reason }, 'postgres.js lost a new connection while it read the server\'s types (known driver gap); the next query connects again');
  });
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception');
    process.stderr.write(`${err.stack ?? String(err)}\n`);
    process.exit(1);
  });
}

/**
 * postgres.js 3.4.9 reads the server's array types on each new connection from a handler that drops the
 * promise (`return fetchArrayTypes()` in its ReadyForQuery): when PostgreSQL closes the connection during
 * that query (a restart, a failover), the rejection is unhandled, and Node would end the process. The
 * connection is gone; the query that opened it is failed as for any lost connection (our callers retry),
 * and the next query connects again, reading the types then.
 */
export const isPostgresTypeFetchReset = (err: unknown): boolean =>
  isDatabaseUnavailable(err) && /from pg_catalog\.pg_type a\b/.test(String((err as { query?: unknown } | null)?.query ?? ''));
