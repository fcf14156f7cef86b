/**
 * An attempt's error text carries the thrown Error's cause chain: Node's `fetch` throws `TypeError('fetch
 * failed')` with the reason only in `cause`, and `Job.error` / `attemptErrors` say that reason. The chain
 * stops after MAX_CAUSE_DEPTH causes and at a cause seen before; an AggregateError names its errors. An Error
 * thrown without a message is named by its class (it used to read `error`).
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { PermanentJobError } from '../../src/errors.js';
import { defineHandler } from '../../workers/handler.js';
import { startWorkerPool } from '../../workers/pool.js';
import type { WorkerPool } from '../../workers/runner.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';

const failing = defineJobType({
  name: 'test.fetch-fail',
  description: 'fetches a URL nothing listens on, or throws a chain of causes',
  payload: z.object({ what: z.enum(['fetch', 'deep', 'loop', 'aggregate', 'bare-class', 'bare-type']), url: z.string().optional() }),
});
class RateLimited extends Error {}
const handler = defineHandler(failing, async ({ what, url }, ctx) => {
  if (what === 'fetch') await fetch(url!, { signal: ctx.signal });
  if (what === 'deep') {
    let e = new Error('level 0');
    for (let i = 1; i <= 8; i++) e = new Error(`level ${i}`, { cause: e });
    throw e;
  }
  if (what === 'loop') {
    const e = new PermanentJobError('outer');
    e.cause = new Error('inner', { cause: e });
    throw e;
  }
  if (what === 'bare-class') throw new RateLimited(); // no message, its name the inherited 'Error'
  if (what === 'bare-type') throw new TypeError();
  throw new AggregateError([new Error('primary down'), new Error('replica down', { cause: 'timed out' })], 'no database');
});

let t: TestApp;
let pool: WorkerPool;
let closedPort: number;
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, failing], handlers: null });
  pool = await startWorkerPool(t.config, t.app.deps, [handler]);
  // A port that was just free: nothing listens on it, so a connection is refused.
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  closedPort = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
});
afterAll(async () => {
  await pool?.stop(5000);
  await t?.dispose();
});

async function failedJob(payload: Record<string, unknown>, maxAttempts = 1) {
  const r = await gql(t.url, SUBMIT, { input: { type: 'test.fetch-fail', payload, maxAttempts } });
  return waitForJob(t.url, r.body.data.submitJob.job.id, (j) => j.state === 'FAILED');
}

it('stores the reason a fetch failed, from its cause, in Job.error and attemptErrors', async () => {
  const job = await failedJob({ what: 'fetch', url: `http://127.0.0.1:${closedPort}/` }, 2);
  const expected = `fetch failed: connect ECONNREFUSED 127.0.0.1:${closedPort}`;
  expect(job.error).toBe(expected);
  expect(job.attemptErrors.map((e: { message: string }) => e.message)).toEqual([expected, expected]);
});

it('follows at most five causes, and a cause that leads back once', async () => {
  const deep = await failedJob({ what: 'deep' });
  expect(deep.error).toBe('level 8: level 7: level 6: level 5: level 4: level 3');
  const loop = await failedJob({ what: 'loop' });
  expect(loop.error).toBe('outer: inner');
});

it("names an AggregateError's errors, with their causes", async () => {
  const job = await failedJob({ what: 'aggregate' });
  expect(job.error).toBe('no database (primary down; replica down: timed out)');
});

it('names an Error thrown without a message by its class', async () => {
  expect((await failedJob({ what: 'bare-class' })).error).toBe('RateLimited');
  expect((await failedJob({ what: 'bare-type' })).error).toBe('TypeError');
});
