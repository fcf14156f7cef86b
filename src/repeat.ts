/**
 * Periodic passes (the dead-letter sweep, retention) timed from the end of the last one, not on a fixed
 * clock: a pass slower than the interval (a slow PostgreSQL, a backlog) is never joined by the next, so
 * passes do not pile up, each holding a pool connection and racing the others over the same rows, exactly
 * when the database is slow.
 */

export interface Repeating {
  /** Starts no further pass; answers once the pass running now (if any) has ended. */
  stop(): Promise<void>;
}

/**
 * Runs `pass` `intervalMs` after the end of the previous one (the first `intervalMs` after the call). A
 * rejection of `pass` is the caller's to log: it is caught here only so the passes go on.
 */
export function repeatAfterEach(intervalMs: number, pass: () => Promise<unknown>): Repeating {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = pass()
        .catch(() => {})
        .finally(schedule);
    }, intervalMs).unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
