/** A worker process: backends, the pool, graceful stop on signals. */
import { connectBackends } from '../src/app.js';
import type { Config } from '../src/config.js';
import { BUILTIN_JOB_TYPES } from '../src/jobs/catalog.js';
import type { JobType } from '../src/jobs/definition.js';
import { createLogger } from '../src/log.js';
import { names } from '../src/messaging/names.js';
import { stopOnSignals } from '../src/process.js';
import type { BoundHandler } from './handler.js';
import { startWorkerPool } from './pool.js';
import { BUILTIN_HANDLERS } from './registry.js';

export async function runWorkerProcess(
  config: Config,
  types: readonly JobType[] = BUILTIN_JOB_TYPES,
  handlers: readonly BoundHandler[] = BUILTIN_HANDLERS,
): Promise<void> {
  const log = createLogger(config.LOG_LEVEL, 'longrun-worker');
  const { db, nats } = await connectBackends(config, types, 'longrun-worker');
  const pool = await startWorkerPool(config, { sql: db.sql, nats, names: names(config.LONGRUN_PREFIX), log }, handlers);
  log.info({ concurrency: config.WORKER_CONCURRENCY, pid: process.pid }, 'worker started');
  process.stdout.write(`longrun worker started (pid ${process.pid}, ${handlers.length} job types)\n`);
  stopOnSignals(async () => {
    await pool.stop(config.SHUTDOWN_GRACE_MS);
    await nats.close();
    await db.close();
  }, log);
}
