import { flakyJob } from '../../src/jobs/catalog.js';
import { PermanentJobError } from '../../src/errors.js';
import { defineHandler, sleep } from '../handler.js';

export default defineHandler(flakyJob, async ({ failures, permanent, ms }, ctx) => {
  if (ms) await sleep(ms, ctx.signal);
  if (permanent) throw new PermanentJobError(`permanent failure on attempt ${ctx.attempt}`);
  if (ctx.attempt <= failures) throw new Error(`flaky failure ${ctx.attempt} of ${failures}`);
  return { succeededOnAttempt: ctx.attempt };
});
