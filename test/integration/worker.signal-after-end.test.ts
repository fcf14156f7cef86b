/**
 * Once a handler has returned or thrown, its attempt is over, and so is the work it started and did not
 * await: a `Promise.all` branch still waiting when another branch threw, the losers of a `Promise.any`. Their
 * `ctx.signal` aborts then, so such work, written to stop on its signal, does not go on to its side effect
 * after the job failed or succeeded (or beside the job's next attempt). It used to abort only on a timeout,
 * cancel or stop: those branches ran to their end.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { defineHandler, type JobContext } from '../../workers/handler.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';

/** A downstream service: the side effects it received, by job id, and its answers the test gives. */
const effects: string[] = [];
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
  description: 'runs two branches at once; one ends the attempt before the other',
  payload: z.object({ end: z.enum(['throw', 'return']) }),
  maxAttempts: 1,
});
const handler = defineHandler(fanOut, async ({ end }, ctx) => {
  if (end === 'throw') {
    await Promise.all([sideBranch(ctx), Promise.reject(new Error('upload failed'))]);
    return 'unreachable';
  }
  return Promise.any([Promise.resolve('first mirror'), sideBranch(ctx)]);
});

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, fanOut], handlers: [handler] });
});
afterAll(async () => {
  for (const answer of answers.values()) answer();
  await t?.dispose();
});

/** Submits a job, waits for it to finish, then lets the downstream service answer its left-over branch. */
async function finishedThenAnswered(end: 'throw' | 'return', state: string) {
  const r = await gql(t.url, SUBMIT, { input: { type: 'test.fan-out', payload: { end } } });
  const id = r.body.data.submitJob.job.id as string;
  const job = await waitForJob(t.url, id, (j) => j.state === state);
  answers.get(id)!();
  return { job, branch: await branches.get(id)!, effect: effects.includes(id) };
}

it('a branch left waiting when another threw stops on its signal once the attempt failed', async () => {
  const { job, branch, effect } = await finishedThenAnswered('throw', 'FAILED');
  expect(job.error).toBe('upload failed');
  expect(branch).toBe('stopped: job attempt ended: its handler returned or threw');
  expect(effect).toBe(false);
});

it('the losers of a race stop on their signal once the handler returned', async () => {
  const { job, branch, effect } = await finishedThenAnswered('return', 'SUCCEEDED');
  expect(job.result).toBe('first mirror');
  expect(branch).toBe('stopped: job attempt ended: its handler returned or threw');
  expect(effect).toBe(false);
});
