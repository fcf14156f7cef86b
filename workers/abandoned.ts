/**
 * Handlers left running by an aborted attempt: a handler that ignores `ctx.signal` keeps running after its
 * timeout, cancel or lost lease, outside WORKER_CONCURRENCY (its slot went to the next job). The worker cannot
 * stop it; it counts it in `longrun_worker_abandoned_handlers` and logs a warning, then an info line when it
 * finally returns or throws. Only aborted attempts come here: a handler that returns normally costs nothing.
 */
import type { Logger } from '../src/log.js';
import { abandonedHandlers } from '../src/observability/metrics.js';

/**
 * Watches the promise of a handler whose attempt was just aborted. It counts as abandoned if it has not
 * settled once the abort's own microtasks have run (a handler that rejects on its signal has by then).
 */
export function watchAbandoned(pending: PromiseLike<unknown>, type: string, reason: string, log: Logger): void {
  const abortedAt = Date.now();
  let settled = false;
  let abandoned = false;
  const settle = () => {
    settled = true;
    if (!abandoned) return;
    abandonedHandlers.dec({ type });
    log.info({ reason, pastAbortMs: Date.now() - abortedAt }, 'abandoned handler settled');
  };
  pending.then(settle, settle);
  setImmediate(() => {
    if (settled) return;
    abandoned = true;
    abandonedHandlers.inc({ type });
    log.warn({ reason }, 'handler still running after its attempt was aborted: it ignores ctx.signal and is not counted in WORKER_CONCURRENCY');
  });
}
