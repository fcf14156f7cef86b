/**
 * A worker claims a job, PostgreSQL commits the claim, and the connection drops before the answer reaches the
 * worker (a restart, a failover, a pooler cutting it). The worker retries the claim, which its own committed
 * claim now refuses (RUNNING under a live lease). The job must still run: with `maxAttempts: 1`, an attempt
 * used up by a claim whose handler never started leaves it nothing but a dead letter.
 *
 * The workers reach PostgreSQL through a proxy that delays what PostgreSQL sends them by 1.5 s, so the test
 * sees the committed claim while its answer is still on the way, and cuts the connection then.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { useProxiedApps } from '../support/app.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineHandler } from '../../workers/handler.js';

const onceJob = defineJobType({ name: 'test.once', description: 'runs once', payload: z.object({}), maxAttempts: 1 });
const runs: number[] = [];
const onceHandler = defineHandler(onceJob, async (_p, ctx) => {
  runs.push(ctx.attempt);
  return 'ran';
});

const types = [...BUILTIN_JOB_TYPES, onceJob];
/** `direct`: the API alone; `proxied`: the workers, on PostgreSQL through the proxy. */
const f = useProxiedApps({
  service: 'DATABASE_URL',
  direct: { types, handlers: null, config: { ACK_WAIT_MS: '6000' } },
  proxied: { types, handlers: [onceHandler], config: { ACK_WAIT_MS: '6000', WORKER_CONCURRENCY: '1' } },
});

it('a claim whose answer is lost still runs the job (maxAttempts 1: once), not dead-letters it unrun', async () => {
  const { env, proxy, direct: api } = f;
  proxy.slow(1500);
  const id = (await gql(api.url, SUBMIT, { input: { type: 'test.once', payload: {} } })).body.data.submitJob.job.id as string;
  // Committed; the worker hears of it 1.5 s later, unless the connection goes first.
  await eventually(async () => (await env.sql`select state from jobs where id = ${id}`)[0]?.state === 'RUNNING', 10_000, 'the claim committed');
  expect(runs).toEqual([]);
  proxy.cut();
  proxy.slow(0);

  const job = await waitForJob(api.url, id, (j) => j.state === 'SUCCEEDED' || j.state === 'FAILED', 30_000);
  expect({ state: job.state, error: job.error, runs }).toEqual({ state: 'SUCCEEDED', error: null, runs: [1] });
});
