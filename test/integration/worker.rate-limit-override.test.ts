/**
 * An admin's override of a type's rate limit (`setJobTypeRateLimit`) holds for running workers from their next
 * pull, with no restart: two pools running a type limited to 20 per 1000 ms in code, overridden to 4 per 1000 ms
 * with a burst of 1, start its jobs no faster than one every 250 ms from the first (by the start times
 * PostgreSQL recorded). Cleared, the type's code limit shows again, not overridden.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { PULL_EXPIRES_MS } from '../../src/messaging/pull.js';
import { defineHandler } from '../../workers/handler.js';
import { startWorkerPool } from '../../workers/pool.js';
import type { WorkerPool } from '../../workers/runner.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql } from '../support/graphql.js';
import { jobStates, tooEarly } from '../support/rate-limit-starts.js';
import { eventually } from '../support/streams.js';

const quota = defineJobType({ name: 'test.quota', description: '20 per second', payload: z.object({}), rateLimit: { max: 20, perMs: 1000 } });
const handlers = [defineHandler(quota, () => null, { concurrency: 20 })];
/** Longer than a pull already out when the override is set takes to end (it was granted at the old limit). */
const SETTLE_MS = PULL_EXPIRES_MS + 1500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let t: TestApp;
const pools: WorkerPool[] = [];
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, quota], handlers: null, config: { ACK_WAIT_MS: '60000' } });
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.stop(2000)));
  await t?.dispose();
});

const SET = /* GraphQL */ `
  mutation S($type: String!, $rateLimit: RateLimitInput) {
    setJobTypeRateLimit(type: $type, rateLimit: $rateLimit) { jobType { name rateLimit { max perMs burst overridden } } userErrors { code field } }
  }
`;
const SUBMIT_MANY = 'mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id } userErrors { code } } }';
const set = async (rateLimit: unknown) => (await gql(t.url, SET, { type: quota.name, rateLimit })).body.data.setJobTypeRateLimit;
const shown = async () =>
  ((await gql(t.url, '{ queueStats { type rateLimit { max perMs burst overridden } } }')).body.data.queueStats as { type: string; rateLimit: unknown }[]).find(
    (s) => s.type === quota.name,
  )!.rateLimit;

it("starts the type no faster than an admin's override across two running pools, and shows its code limit again once cleared", async () => {
  for (let i = 0; i < 2; i++) pools.push(await startWorkerPool(t.config, t.app.deps, handlers));
  expect(pools[0]!.rateLimits).toEqual({ 'test.quota': { max: 20, perMs: 1000, burst: 20 } });
  await sleep(1500); // the idle pools pull (taking tokens at the code's limit) before the override

  const override = { max: 4, perMs: 1000, burst: 1 };
  expect(await set(override)).toEqual({ jobType: { name: quota.name, rateLimit: { ...override, overridden: true } }, userErrors: [] });
  expect(await shown()).toEqual({ ...override, overridden: true });
  await sleep(SETTLE_MS); // the pulls granted at the code's limit have ended: every pull since takes the override's

  const res = await gql(t.url, SUBMIT_MANY, { inputs: Array.from({ length: 8 }, () => ({ type: quota.name, payload: {} })) });
  const ids = res.body.data.submitJobs.jobs.map((j: { id: string }) => j.id);
  await eventually(async () => (await jobStates(t.env.sql, ids)).SUCCEEDED === 8, 'the jobs to succeed', 60_000);
  // One at once, then one per 250 ms: not the 20 at once the code's limit allows.
  expect(await tooEarly(t.env.sql, ids, override)).toEqual([]);

  expect(await set(null)).toEqual({ jobType: { name: quota.name, rateLimit: { max: 20, perMs: 1000, burst: 20, overridden: false } }, userErrors: [] });
  expect(await shown()).toEqual({ max: 20, perMs: 1000, burst: 20, overridden: false });
});
