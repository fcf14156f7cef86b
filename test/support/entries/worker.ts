/** A worker process that also runs `test.effect`. */
import { loadConfig } from '../../../src/config.js';
import { BUILTIN_JOB_TYPES } from '../../../src/jobs/catalog.js';
import { exitWithError } from '../../../src/process.js';
import { runWorkerProcess } from '../../../workers/process.js';
import { BUILTIN_HANDLERS } from '../../../workers/registry.js';
import { effectHandler, effectJob } from '../effect-job.js';

runWorkerProcess(loadConfig(), [...BUILTIN_JOB_TYPES, effectJob], [...BUILTIN_HANDLERS, effectHandler]).catch((e: unknown) =>
  exitWithError('test worker', e),
);
