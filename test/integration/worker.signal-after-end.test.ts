/**
 * A handler that threw has failed its attempt, and so has the work it started and did not await: a
 * `Promise.all` branch still waiting when another branch threw. Its `ctx.signal` aborts then, so such work,
 * written to stop on its signal, does not go on to its side effect after the attempt failed (or beside the
 * job's next attempt). It used to abort only on a timeout, cancel or stop: such a branch ran to its end.
 * A handler that returned keeps its signal as it is: an abort listener that undoes partial work on a cancel
 * must not undo a success.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { defineHandler, type JobContext } from '../../workers/handler.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';

/** A downstream service: the side effects it received and the uploads it deleted, by job id; its answers. */
const effects: string[] = [];
const deleted: string[] = [];
const answers = new Map<string, () => void>();
/** How each job's second branch ended: its side effect made, or stopped by its signal (with the reason). */
const branches = new Map<string, Promise<string>>();

/** Waits for the downstream service's answer (or the signal), then makes the side effect. */
function sideBranch(ctx: JobContext): Promise<string> {
  const branch = new Promise<void>((resolve, reject) => {
    answers.set(ctx.jobId, resolve);
    ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
  }).then(
    () => {
      effects.push(ctx.jobId);
      return 'side effect made';
    },
    (e: Error) => `stopped: ${e.message}`,
  );
  branches.set(ctx.jobId, branch);
  return branch;
}

const fanOut = defineJobType({
  name: 'test.fan-out',
  description: 'runs two branches at once, one throws; or uploads, deleting the upload if aborted',
  payload: z.object({ end: z.enum(['throw', 'return']) }),
  maxAttempts: 1,
});
const handler = defineHandler(fanOut, async ({ end }, ctx) => {
  if (end === 'throw') {
    await Promise.all([sideBranch(ctx), Promise.reject(new Error('upload failed'))]);
    return 'unreachable';
  }
  ctx.signal.addEventListener('abort', () => deleted.push(ctx.jobId), { once: true }); // clean-up on cancel
  return 'uploaded';
});

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, fanOut], handlers: [handler] });
});
afterAll(async () => {
  for (const answer of answers.values()) answer();
  await t?.dispose();
});

async function finished(end: 'throw' | 'return', state: string) {
  const r = await gql(t.url, SUBMIT, { input: { type: 'test.fan-out', payload: { end } } });
  return waitForJob(t.url, r.body.data.submitJob.job.id as string, (j) => j.state === state);
}

it('a branch left waiting when another threw stops on its signal once the attempt failed', async () => {
  const job = await finished('throw', 'FAILED');
  expect(job.error).toBe('upload failed');
  answers.get(job.id)!(); // the downstream service answers now
  expect(await branches.get(job.id)!).toBe('stopped: job attempt failed: its handler threw');
  expect(effects).not.toContain(job.id);
});

it('a handler that returned keeps its signal: its clean-up on abort does not undo the success', async () => {
  const job = await finished('return', 'SUCCEEDED');
  expect(job.result).toBe('uploaded');
  expect(deleted).not.toContain(job.id);
});
