/** Starts the worker pool for the configured job types, with the built-in handlers. */
import type { Config } from '../src/config.js';
import type { JobDeps } from '../src/jobs/deps.js';
import type { BoundHandler } from './handler.js';
import { BUILTIN_HANDLERS } from './registry.js';
import { startWorkers, type WorkerPool } from './runner.js';

/**
 * Starts the pool. `deps.types` are the job types the process set up (their streams' consumers): a handler
 * whose type is not among them is refused here, at start, rather than pulling for ever from a consumer that
 * does not exist. So is WORKER_CONCURRENCY=0 (API only, whatever a type's own concurrency): with no slot to run
 * a job in, the pool would still claim jobs and keep them RUNNING, their messages and leases alive, for ever.
 * So is a WORKER_TYPE_CONCURRENCY entry for a type no handler has (a misspelt name would be ignored); one for a
 * type WORKER_TYPES leaves out is not (one setting shared by processes that split the types).
 */
export async function startWorkerPool(
  config: Config,
  deps: Pick<JobDeps, 'sql' | 'nats' | 'names' | 'log' | 'types'>,
  handlers: readonly BoundHandler[] = BUILTIN_HANDLERS,
): Promise<WorkerPool> {
  if (config.WORKER_CONCURRENCY < 1) {
    throw new Error('WORKER_CONCURRENCY is 0, which runs no workers (API only): set it to 1 or more for a worker process');
  }
  const wanted = config.WORKER_TYPES;
  const chosen = wanted.length ? handlers.filter((h) => wanted.includes(h.type.name)) : handlers;
  const unknown = wanted.filter((t) => !handlers.some((h) => h.type.name === t));
  if (unknown.length) throw new Error(`WORKER_TYPES names unknown job types: ${unknown.join(', ')}`);
  const typeless = chosen.filter((h) => !deps.types.has(h.type.name)).map((h) => h.type.name);
  if (typeless.length) {
    throw new Error(
      `handlers for job types this process does not set up: ${typeless.join(', ')} (put each handler's type in the ` +
        'same list as its handler: BUILTIN_JOB_TYPES, or the types given to startApp or runWorkerProcess)',
    );
  }
  const unlisted = [...config.WORKER_TYPE_CONCURRENCY.keys()].filter((t) => !handlers.some((h) => h.type.name === t));
  if (unlisted.length) throw new Error(`WORKER_TYPE_CONCURRENCY names unknown job types: ${unlisted.join(', ')}`);
  return startWorkers({
    ...deps,
    // Each type's slots: the operator's setting for the type, else its handler's own, else WORKER_CONCURRENCY.
    handlers: chosen.map((h) => ({
      ...h,
      concurrency: config.WORKER_TYPE_CONCURRENCY.get(h.type.name) ?? h.concurrency ?? config.WORKER_CONCURRENCY,
    })),
    claimAhead: config.WORKER_CLAIM_AHEAD,
    ackWaitMs: config.ACK_WAIT_MS,
    progressDbIntervalMs: config.PROGRESS_DB_INTERVAL_MS,
  });
}
