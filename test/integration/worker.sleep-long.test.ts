/**
 * The `sleep(ms, signal)` a handler gets from workers/handler.ts, asked for longer than a Node timer holds
 * (2^31 - 1 ms, 24.8 days; setTimeout fires such a timer after 1 ms instead): it sleeps on until its signal
 * aborts, here by the attempt's timeout, rather than returning at once.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { defineHandler, sleep } from '../../workers/handler.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp } from '../support/app.js';
import { useFixture } from '../support/fixture.js';

const dozer = defineJobType({ name: 'test.dozer', description: 'sleeps 30 days', payload: z.object({}), maxAttempts: 1, timeoutMs: 1500 });
const handler = defineHandler(dozer, async (_p, ctx) => {
  await sleep(30 * 86_400_000, ctx.signal);
  return 'woke up';
});

const its = useFixture(async (later) => {
  const app = await startTestApp({ types: [...BUILTIN_JOB_TYPES, dozer], handlers: [handler] });
  later(() => app.dispose());
  return { app };
});

it('a handler sleeping 30 days sleeps until its timeout instead of waking at once', async () => {
  const id = (await gql(its.app.url, SUBMIT, { input: { type: 'test.dozer', payload: {} } })).body.data.submitJob.job.id as string;
  const job = await waitForJob(its.app.url, id, (j) => j.state === 'SUCCEEDED' || j.state === 'FAILED', 10_000);
  expect(job).toMatchObject({ state: 'FAILED', result: null, error: 'timed out after 1500 ms' });
});
