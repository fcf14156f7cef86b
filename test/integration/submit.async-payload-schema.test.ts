/**
 * A job type whose payload schema checks asynchronously (an async refinement or transform: a lookup) is
 * usable: a submit is checked with it (a refused payload is INVALID_PAYLOAD on its field, nothing written;
 * zod refuses such a schema in a synchronous parse, which answered INTERNAL_SERVER_ERROR), and the worker
 * hands the handler what the async transform made.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { defineHandler } from '../../workers/handler.js';
import { countRows, startTestApp, type TestApp } from '../support/app.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';

const lookup = (sku: string) => new Promise<boolean>((r) => setTimeout(() => r(sku !== 'gone'), 5));
const order = defineJobType({
  name: 'test.order',
  description: 'an order whose sku is looked up',
  payload: z
    .object({ sku: z.string() })
    .refine(async (p) => lookup(p.sku), { message: 'no such sku', path: ['sku'] })
    .transform(async (p) => ({ ...p, checkedAt: 'worker' })),
});
const handler = defineHandler(order, async (p) => p);

const SUBMIT_JOBS = /* GraphQL */ `
  mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id } userErrors { code field message } } }`;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, order], handlers: [handler] });
});
afterAll(async () => {
  await t?.dispose();
});

it('runs a job of such a type: the handler gets what the async transform made', async () => {
  const r = await gql(t.url, SUBMIT, { input: { type: 'test.order', payload: { sku: 'a-1' } } });
  expect(r.body.errors).toBeUndefined();
  expect(r.body.data.submitJob.userErrors).toEqual([]);
  const job = await waitForJob(t.url, r.body.data.submitJob.job.id, (j) => j.state === 'SUCCEEDED', 20_000);
  expect(job.payload).toEqual({ sku: 'a-1' }); // stored as submitted
  expect(job.result).toEqual({ sku: 'a-1', checkedAt: 'worker' });
});

it('refuses a payload the async refinement rejects, on its field, writing nothing; in a batch, the whole batch', async () => {
  const jobsBefore = await countRows(t.env.sql, 'jobs');
  const one = await gql(t.url, SUBMIT, { input: { type: 'test.order', payload: { sku: 'gone' } } });
  expect(one.body.errors).toBeUndefined();
  expect(one.body.data.submitJob).toMatchObject({
    job: null,
    userErrors: [{ code: 'INVALID_PAYLOAD', field: ['input', 'payload', 'sku'], message: 'no such sku' }],
  });
  const batch = await gql(t.url, SUBMIT_JOBS, {
    inputs: [{ type: 'demo.noop', payload: {} }, { type: 'test.order', payload: { sku: 'gone' } }, { type: 'test.order', payload: { sku: 'b-2' } }],
  });
  expect(batch.body.errors).toBeUndefined();
  expect(batch.body.data.submitJobs).toEqual({
    jobs: null,
    userErrors: [{ code: 'INVALID_PAYLOAD', field: ['inputs', '1', 'payload', 'sku'], message: 'no such sku' }],
  });
  expect(await countRows(t.env.sql, 'jobs')).toBe(jobsBefore);
});
