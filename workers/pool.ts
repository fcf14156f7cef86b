/** Starts the worker pool for the configured job types, with the built-in handlers. */
import type { Config } from '../src/config.js';
import type { JobDeps } from '../src/jobs/deps.js';
import type { BoundHandler } from './handler.js';
import { BUILTIN_HANDLERS } from './registry.js';
import { startWorkers, type WorkerPool } from './runner.js';

export function startWorkerPool(
  config: Config,
  deps: Pick<JobDeps, 'sql' | 'nats' | 'names' | 'log'>,
  handlers: readonly BoundHandler[] = BUILTIN_HANDLERS,
): Promise<WorkerPool> {
  const wanted = config.WORKER_TYPES;
  const chosen = wanted.length ? handlers.filter((h) => wanted.includes(h.type.name)) : handlers;
  const unknown = wanted.filter((t) => !handlers.some((h) => h.type.name === t));
  if (unknown.length) throw new Error(`WORKER_TYPES names unknown job types: ${unknown.join(', ')}`);
  return startWorkers({
    ...deps,
    handlers: chosen,
    concurrency: config.WORKER_CONCURRENCY,
    claimAhead: config.WORKER_CLAIM_AHEAD,
    ackWaitMs: config.ACK_WAIT_MS,
    progressDbIntervalMs: config.PROGRESS_DB_INTERVAL_MS,
  });
}
