/**
 * Reconnecting a watch: the wait before each try again (`reconnectDelay`: backoff with jitter) and
 * `resubscribing`, which opens a watch's subscription again after a lost connection or a SERVICE_UNAVAILABLE
 * answer, `reconnectAttempts` times in a row at most, and ends the watch when the client is closed.
 */
import type { Connection } from './connection.js';
import { LongrunError, errorFromClose, isRetryableClose, serverError } from './errors.js';
import type { SubscriptionSettings } from './subscriptions.js';

/** The longest wait before a reconnect. */
const MAX_RECONNECT_DELAY_MS = 5000;

/**
 * The wait before the `n`th try again in a row (from 1): a random one ("equal jitter") between half and the
 * whole of `baseMs` doubled n - 1 times, at most 5 s; so after a server restart its clients do not all come
 * back at the same instant, and none comes back at once.
 */
export function reconnectDelay(n: number, baseMs: number, random: () => number = Math.random): number {
  const step = Math.min(MAX_RECONNECT_DELAY_MS, baseMs * 2 ** (n - 1));
  return step / 2 + random() * (step / 2);
}

/** Waits `ms`, or until one of the signals aborts; either way it leaves no listener on them behind. */
export const sleep = (ms: number, ...signals: (AbortSignal | undefined)[]) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const signal of signals) signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const signal of signals) signal?.addEventListener('abort', done, { once: true });
  });

/** What an iterator open when `close()` was called ends with. */
const closedError = () => new LongrunError('the client was closed while the watch was open', 'CLOSED');

/** Whether a subscription's failure is the server saying a backing service is unavailable (try again). */
const isUnavailable = (e: unknown): boolean => serverError(e)?.code === 'SERVICE_UNAVAILABLE';

/**
 * Yields the updates of the subscriptions `open` makes on `conn`: after a lost connection, or a
 * SERVICE_UNAVAILABLE answer, it opens one again (backoff from `reconnectDelayMs` to 5 s, jittered:
 * `reconnectDelay`; `reconnectAttempts` in a row: an update or a connection made since the last failure starts
 * the count again); it ends when one completes or `signal` aborts, and throws any other failure as a
 * LongrunError (CLOSED once the client is closed).
 */
export async function* resubscribing<T>(
  conn: Connection,
  s: SubscriptionSettings,
  open: () => AsyncGenerator<T>,
  signal: AbortSignal | undefined,
): AsyncGenerator<T> {
  let failures = 0;
  let connectionsAtFailure = conn.connections;
  const closed = conn.closing;
  for (;;) {
    if (signal?.aborted) return;
    if (closed.aborted) throw closedError();
    try {
      for await (const u of open()) {
        if (signal?.aborted) return; // an update that came before the abort, read after it
        failures = 0;
        yield u;
      }
      // The socket's close() ends its subscriptions as if they had completed: not the job finishing.
      if (closed.aborted && !signal?.aborted) throw closedError();
      return; // completed (the job finished) or aborted
    } catch (e) {
      if (closed.aborted) throw e instanceof LongrunError && e.code === 'CLOSED' ? e : closedError();
      // A server never reached (wrong URL, not running) fails at once, as every other call does. One that
      // answered SERVICE_UNAVAILABLE (its database unreachable) is tried again like a lost connection; the
      // connection it made for that answer does not start the count again.
      const unavailable = isUnavailable(e);
      if (conn.connections > connectionsAtFailure && !unavailable) failures = 0; // it was connected again since the last failure
      connectionsAtFailure = conn.connections;
      const again = unavailable || (!(e instanceof LongrunError) && isRetryableClose(e));
      if (!again || conn.connections === 0 || ++failures > s.reconnectAttempts) {
        // One before the server was ever reached says so.
        throw errorFromClose(e, conn.connections > 0 ? null : s.wsUrl);
      }
      await sleep(reconnectDelay(failures, s.reconnectDelayMs), signal, closed);
    }
  }
}
