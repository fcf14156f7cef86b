/**
 * A failed attempt's outcome records the last progress its handler reported, as a success's does: the job
 * (and its RETRYING or FAILED update, and the error row of its history) shows how far the attempt got and what
 * it was doing when it failed. It used to show the last milestone PostgreSQL had by then (progress writes are
 * throttled), an earlier step than the one that failed. A share too small for the `real` column (1e-50) is 0:
 * PostgreSQL refuses it, and the outcome's write, which now carries it, failed (the job stayed RUNNING until
 * its lease ran out, then failed as "worker lost").
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { defineHandler } from '../../workers/handler.js';
import { gql, JOB, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/receivers.js';

/** Opens the gate a job's handler waits at, once the test has seen its first milestone recorded. */
const gates = new Map<string, () => void>();
const encode = defineJobType({
  name: 'test.encode',
  description: 'downloads, then fails while encoding',
  payload: z.object({ tiny: z.boolean().default(false) }),
  backoff: { baseMs: 600_000, maxMs: 600_000 }, // stays RETRYING for the test
});
const handler = defineHandler(encode, async ({ tiny }, ctx) => {
  if (tiny) {
    ctx.progress(1e-50, 'starting'); // a share the `real` column cannot hold
    throw new Error('encoder crashed');
  }
  ctx.progress(10, 'downloading');
  await new Promise<void>((resolve) => gates.set(ctx.jobId, resolve));
  ctx.progress(90, 'encoding');
  throw new Error('encoder crashed');
});

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, encode], handlers: [handler] });
});
afterAll(async () => {
  for (const open of gates.values()) open();
  await t?.dispose();
});

/** Submits a job, lets it fail once its first milestone is recorded, and answers it once it is `state`. */
async function failedWhileEncoding(maxAttempts: number, state: string) {
  const r = await gql(t.url, SUBMIT, { input: { type: 'test.encode', payload: {}, maxAttempts } });
  const id = r.body.data.submitJob.job.id as string;
  await eventually(async () => (await gql(t.url, JOB, { id })).body.data.job.progressMessage === 'downloading', 10_000, 'the first milestone');
  gates.get(id)!();
  return waitForJob(t.url, id, (j) => j.state === state);
}

it('a job failed for good shows the progress its last attempt reported before it threw', async () => {
  const job = await failedWhileEncoding(1, 'FAILED');
  expect(job).toMatchObject({ error: 'encoder crashed', progress: 90, progressMessage: 'encoding' });
  expect(job.events.at(-1)).toMatchObject({ state: 'FAILED', progress: 90, message: 'encoder crashed' });
});

it('a job waiting for its retry shows it too', async () => {
  const job = await failedWhileEncoding(2, 'RETRYING');
  expect(job).toMatchObject({ error: 'encoder crashed', progress: 90, progressMessage: 'encoding' });
  expect(job.events.at(-1)).toMatchObject({ state: 'RETRYING', progress: 90, message: 'encoder crashed' });
});

it('a share of progress too small for PostgreSQL is recorded as 0, not refused with the outcome', async () => {
  const r = await gql(t.url, SUBMIT, { input: { type: 'test.encode', payload: { tiny: true }, maxAttempts: 1 } });
  const job = await waitForJob(t.url, r.body.data.submitJob.job.id, (j) => j.state === 'FAILED');
  expect(job).toMatchObject({ error: 'encoder crashed', attempts: 1, progress: 0, progressMessage: 'starting' });
});
