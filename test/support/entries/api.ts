/** An API process (with workers when WORKER_CONCURRENCY > 0) that also knows `test.effect` and `test.poison`. */
import { startApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { BUILTIN_JOB_TYPES } from '../../../src/jobs/catalog.js';
import { createLogger } from '../../../src/log.js';
import { exitWithError, stopOnSignals, handleUncaughtErrors } from '../../../src/process.js';
import { startWorkerPool } from '../../../workers/pool.js';
import { BUILTIN_HANDLERS } from '../../../workers/registry.js';
import { effectHandler, effectJob, poisonJob } from '../effect-job.js';

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL);
handleUncaughtErrors(log);
startApp({
  config,
  log,
  types: [...BUILTIN_JOB_TYPES, effectJob, poisonJob],
  workers: config.WORKER_CONCURRENCY > 0 ? (deps) => startWorkerPool(config, deps, [...BUILTIN_HANDLERS, effectHandler]) : undefined,
}).then((app) => {
  process.stdout.write(`GraphiQL: ${app.url}\n`);
  stopOnSignals(() => app.stop(), log);
}, (e: unknown) => exitWithError('test api', e));
