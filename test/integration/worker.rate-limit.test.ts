/**
 * A job type's `rateLimit` holds across worker pools together: two pools (20 slots each) given 16 jobs of a
 * type limited to 4 per 1000 ms at once start them no faster than the bucket allows (4 at once, then one every
 * 250 ms), by the start times PostgreSQL recorded, and a type with the same rate and a burst of 1 one every
 * 250 ms from the first; an unlimited type beside them is not held back, nor by a type whose bucket is empty
 * for an hour (its jobs wait QUEUED). queueStats, jobTypes and the CLI's stats and types show each type's limit.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { defineHandler } from '../../workers/handler.js';
import { startWorkerPool } from '../../workers/pool.js';
import type { WorkerPool } from '../../workers/runner.js';
import { gql } from '../support/graphql.js';
import { runCli } from '../support/cli.js';
import { jobStates, tooEarly as rateLimitTooEarly } from '../support/rate-limit-starts.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/streams.js';

const payload = z.object({});
const limited = defineJobType({ name: 'test.limited', description: '4 per second', payload, rateLimit: { max: 4, perMs: 1000 } });
const hourly = defineJobType({ name: 'test.hourly', description: '1 per hour', payload, rateLimit: { max: 1, perMs: 3_600_000 } });
const even = defineJobType({ name: 'test.even', description: '4 per second, evenly', payload, rateLimit: { max: 4, perMs: 1000, burst: 1 } });
const free = defineJobType({ name: 'test.free', description: 'no limit', payload });
const handlers = [limited, hourly, even, free].map((type) => defineHandler(type, () => null, { concurrency: 20 }));

let t: TestApp;
const pools: WorkerPool[] = [];
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, limited, hourly, even, free], handlers: null, config: { ACK_WAIT_MS: '60000' } });
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.stop(2000)));
  await t?.dispose();
});

const SUBMIT_MANY = 'mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id } userErrors { code } } }';
async function submit(type: string, n: number): Promise<string[]> {
  const res = await gql(t.url, SUBMIT_MANY, { inputs: Array.from({ length: n }, () => ({ type, payload: {} })) });
  return res.body.data.submitJobs.jobs.map((j: { id: string }) => j.id);
}
const tooEarly = (ids: string[], limit: { max: number; perMs: number; burst: number }) => rateLimitTooEarly(t.env.sql, ids, limit);
const states = (ids: string[]) => jobStates(t.env.sql, ids);

it('starts a limited type no faster than its rate across two pools, and holds no other type back', async () => {
  for (let i = 0; i < 2; i++) pools.push(await startWorkerPool(t.config, t.app.deps, handlers));
  expect(pools[0]!.rateLimits).toEqual({
    'test.limited': { max: 4, perMs: 1000, burst: 4 },
    'test.hourly': { max: 1, perMs: 3_600_000, burst: 1 },
    'test.even': { max: 4, perMs: 1000, burst: 1 },
  });
  // Idle pools pull (holding tokens) before the jobs come.
  await new Promise((r) => setTimeout(r, 1500));

  const hourlyIds = await submit(hourly.name, 3);
  const limitedIds = await submit(limited.name, 16);
  const evenIds = await submit(even.name, 8);
  const freeIds = await submit(free.name, 20);

  await eventually(async () => (await states(freeIds)).SUCCEEDED === 20, 'the unlimited jobs to succeed', 30_000);
  // One hourly job started; the bucket has nothing more for an hour, so the others wait QUEUED, however long
  // the unlimited ones took.
  await eventually(async () => (await states(hourlyIds)).SUCCEEDED! >= 1, 'the first hourly job to succeed', 30_000);
  const hourlyMeanwhile = await states(hourlyIds);

  await eventually(async () => (await states(limitedIds)).SUCCEEDED === 16, 'the limited jobs to succeed', 60_000);
  await eventually(async () => (await states(evenIds)).SUCCEEDED === 8, 'the evenly limited jobs to succeed', 60_000);
  // The bucket's 4 at once, then one per 250 ms; with a burst of 1, one per 250 ms from the first.
  expect(await tooEarly(limitedIds, limited.rateLimit!)).toEqual([]);
  expect(await tooEarly(evenIds, even.rateLimit!)).toEqual([]);
  expect(hourlyMeanwhile).toEqual({ SUCCEEDED: 1, QUEUED: 2 });
  expect(await states(hourlyIds)).toEqual({ SUCCEEDED: 1, QUEUED: 2 });

  const stats = (await gql(t.url, '{ queueStats { type rateLimit { max perMs burst } } }')).body.data.queueStats as { type: string; rateLimit: unknown }[];
  const limitOf = (type: string) => stats.find((s) => s.type === type)!.rateLimit;
  expect([limitOf(limited.name), limitOf(hourly.name), limitOf(even.name), limitOf(free.name)]).toEqual([
    { max: 4, perMs: 1000, burst: 4 },
    { max: 1, perMs: 3_600_000, burst: 1 },
    { max: 4, perMs: 1000, burst: 1 },
    null,
  ]);
  const types = (await gql(t.url, '{ jobTypes { name rateLimit { max perMs burst } } }')).body.data.jobTypes as { name: string; rateLimit: unknown }[];
  expect([limited, hourly, even, free].map((type) => types.find((x) => x.name === type.name)!.rateLimit)).toEqual(
    [limited, hourly, even, free].map((type) => limitOf(type.name)),
  );
  const rows = (await runCli(t.url, t.key!, ['stats'])).stdout.split('\n');
  const shown = (type: string) => rows.find((l) => l.startsWith(`${type}\t`))!.split('\t')[10];
  expect([shown(limited.name), shown(hourly.name), shown(even.name), shown(free.name)]).toEqual(['4/1000ms', '1/3600000ms', '4/1000ms,burst=1', '-']);
  // longrun types: PAUSED and RATE_LIMIT (the same text) as its last columns.
  const typeRows = (await runCli(t.url, t.key!, ['types'])).stdout.split('\n');
  const typeRow = (type: string) => typeRows.find((l) => l.startsWith(`${type}\t`))!.split('\t').slice(4);
  expect([typeRow(limited.name), typeRow(even.name), typeRow(free.name)]).toEqual([
    ['-', '4/1000ms'],
    ['-', '4/1000ms,burst=1'],
    ['-', '-'],
  ]);
});
