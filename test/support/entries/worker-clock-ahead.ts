/** A worker process (built-in types and `test.soon`) whose clock runs `CLOCK_AHEAD_MS` ahead (clock-ahead.ts). */
import './clock-ahead.js';
import { loadConfig } from '../../../src/config.js';
import { BUILTIN_JOB_TYPES } from '../../../src/jobs/catalog.js';
import { exitWithError } from '../../../src/process.js';
import { runWorkerProcess } from '../../../workers/process.js';
import { BUILTIN_HANDLERS } from '../../../workers/registry.js';
import { soonHandler, soonJob } from '../soon-job.js';

runWorkerProcess(loadConfig(), [...BUILTIN_JOB_TYPES, soonJob], [...BUILTIN_HANDLERS, soonHandler]).catch((e: unknown) =>
  exitWithError('test worker', e),
);
