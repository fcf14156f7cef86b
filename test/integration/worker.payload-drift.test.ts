/**
 * A job whose payload the worker's type no longer accepts (the type's schema changed between the submit and
 * the run, e.g. a deploy) fails at once with an error that says so, instead of being retried until its
 * attempts run out: every attempt would be refused the same way. Once the schema accepts it, `retryJob` runs it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { defineHandler } from '../../workers/handler.js';
import { startWorkerPool } from '../../workers/pool.js';
import type { WorkerPool } from '../../workers/runner.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';

/** The type as the API knows it (at submit) and as the newer worker knows it. */
const before = defineJobType({ name: 'test.resize', description: 'resize', payload: z.object({ width: z.number() }) });
const after = defineJobType({ name: 'test.resize', description: 'resize', payload: z.object({ width: z.number(), height: z.number() }) });
/** The fix deployed next: a default for what older payloads lack. */
const fixed = defineJobType({ name: 'test.resize', description: 'resize', payload: z.object({ width: z.number(), height: z.number().default(480) }) });
const area = ({ width, height }: { width: number; height: number }) => ({ area: width * height });

let t: TestApp;
let pool: WorkerPool | null = null;
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, before], handlers: null });
});
afterAll(async () => {
  await pool?.stop(2000);
  await t?.dispose();
});

it('fails a job its worker cannot read at once, with the schema mismatch as its error', async () => {
  const sub = await gql(t.url, SUBMIT, { input: { type: 'test.resize', payload: { width: 640 }, maxAttempts: 5 } });
  const id = sub.body.data.submitJob.job.id as string;
  pool = await startWorkerPool(t.config, t.app.deps, [defineHandler(after, area)]);
  const job = await waitForJob(t.url, id, (j) => j.state === 'FAILED', 20_000);
  expect(job.attempts).toBe(1);
  expect(job.error).toMatch(/^the payload does not match type test\.resize's schema any more: height: \S/);

  // The fixed worker replaces the old one; the operator replays the job.
  await pool.stop(2000);
  pool = await startWorkerPool(t.config, t.app.deps, [defineHandler(fixed, area)]);
  const retried = await gql(t.url, `mutation($id: ID!) { retryJob(id: $id) { job { state } userErrors { code } } }`, { id });
  expect(retried.body.data.retryJob).toEqual({ job: { state: 'QUEUED' }, userErrors: [] });
  const done = await waitForJob(t.url, id, (j) => j.state === 'SUCCEEDED', 20_000);
  expect(done.result).toEqual({ area: 640 * 480 });
});
