/**
 * Signal handling shared by the entry points: the first SIGTERM/SIGINT runs the graceful `stop`, then the
 * process exits 0 (1 if stopping failed); a second signal exits at once.
 */
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
