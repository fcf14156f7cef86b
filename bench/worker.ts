/**
 * The bench's worker process: connects like workers/main.ts, then waits for `start` over IPC before it
 * starts the pool (so CPU accounting and drain timing exclude start-up). Answers `ping` with its clock for
 * the offset estimate. Stopped with `stop` (or SIGTERM): running jobs finish, then it exits.
 */
import { connectBackends } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { names } from '../src/messaging/names.js';
import { typesByName } from '../src/jobs/definition.js';
import { startWorkerPool } from '../workers/pool.js';
import type { WorkerPool } from '../workers/runner.js';
import { BENCH_HANDLERS, BENCH_TYPES, now } from './jobs.js';

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, 'longrun-bench-worker');
const { db, nats } = await connectBackends(config, BENCH_TYPES, 'longrun-bench-worker', { notifier: false, log });
let pool: WorkerPool | null = null;
let stopping = false;

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await pool?.stop(config.SHUTDOWN_GRACE_MS);
  await nats.close();
  await db.close();
  process.exit(0);
}

process.on('message', (m: { type: string; id?: number }) => {
  if (m.type === 'ping') process.send?.({ type: 'pong', id: m.id, t: now() });
  if (m.type === 'start' && !pool) {
    void startWorkerPool(config, { sql: db.sql, nats, names: names(config.LONGRUN_PREFIX), log, types: typesByName(BENCH_TYPES) }, BENCH_HANDLERS).then((p) => {
      pool = p;
      process.send?.({ type: 'started' });
    });
  }
  if (m.type === 'stop') void stop();
});
process.on('SIGTERM', () => void stop());
process.on('disconnect', () => void stop());
process.send?.({ type: 'ready' });
