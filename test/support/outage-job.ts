/**
 * `test.outage`: a job whose downstream is down until the test says otherwise (`outage.down = false`): while
 * down every attempt fails, and with one attempt the job is FAILED and dead-lettered at once. `test.slow`
 * sleeps `ms` (its type's timeout is 10 s; a submit may ask for less), for replays with another timeout.
 */
import { z } from 'zod';
import { defineJobType } from '../../src/jobs/definition.js';
import { defineHandler, sleep } from '../../workers/handler.js';

export const outage = { down: true };

export const outageJob = defineJobType({
  name: 'test.outage',
  description: 'fails while the downstream is down',
  payload: z.object({ n: z.number().int().optional() }),
  maxAttempts: 1,
});

export const outageHandler = defineHandler(outageJob, async () => {
  if (outage.down) throw new Error('downstream unavailable');
  return { ok: true };
});

export const slowJob = defineJobType({
  name: 'test.slow',
  description: 'sleeps ms',
  payload: z.object({ ms: z.number().int().min(0) }),
  maxAttempts: 1,
  timeoutMs: 10_000,
});

export const slowHandler = defineHandler(slowJob, async ({ ms }, ctx) => {
  await sleep(ms, ctx.signal);
  return { slept: ms };
});
