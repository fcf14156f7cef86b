/**
 * Waiting for a backing service with a deadline: a read that must not stall what depends on it (a metrics
 * scrape, `queueStats`, `/readyz`) while NATS or PostgreSQL does not answer, or a stop that must not wait
 * for ever on work stuck on one (the dead-letter recorder's).
 */

/**
 * How long a stop waits for a periodic pass under way (the dead-letter sweep, the outbox relay, retention) to
 * end: each step of one is idempotent (the next pass, in this process or another, takes up the rest), so a
 * pass stuck on a slow, locked or silent database is left behind rather than holding up the shutdown.
 */
export const STOP_WAIT_MS = 2000;

/** `p`'s value, or `fallback` once `ms` have passed without one (the timer is cleared either way). */
export async function orAfter<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
    timer.unref();
  });
  try {
    return await Promise.race([p, gaveUp]);
  } finally {
    clearTimeout(timer);
  }
}
