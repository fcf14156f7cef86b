/**
 * A backoff at the edge of what a job type may set (delays up to 2^31 - 1 ms, jitter up to 1): the jitter
 * spreads the delay both ways, and above 2^31 - 1 ms the RETRYING write (an int4 delay) would be refused, so
 * the failed attempt was never recorded: the job stayed RUNNING with no error, and its next attempt came after
 * AckWait instead of the backoff. The delay is capped at the longest one a type may set.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType, MAX_DELAY_MS } from '../../src/jobs/definition.js';
import { defineHandler } from '../../workers/handler.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp } from '../support/app.js';
import { useFixture } from '../support/fixture.js';

const slow = defineJobType({
  name: 'test.long-backoff',
  description: 'fails; retried 24.8 days later, give or take all of it',
  payload: z.object({}),
  maxAttempts: 2,
  backoff: { baseMs: MAX_DELAY_MS, maxMs: MAX_DELAY_MS, jitter: 1 },
});
const failing = defineHandler(slow, () => {
  throw new Error('boom');
});

const its = useFixture(async (later) => {
  const app = await startTestApp({ types: [...BUILTIN_JOB_TYPES, slow], handlers: [failing] });
  later(() => app.dispose());
  return { app };
});
afterEach(() => void vi.restoreAllMocks());

it('a failed attempt whose jittered backoff would pass 2^31 - 1 ms is recorded RETRYING, due within that', async () => {
  // The jitter's draw at its top: the delay would be twice the longest a type may set.
  vi.spyOn(Math, 'random').mockReturnValue(0.999999);
  const before = Date.now();
  const id = (await gql(its.app.url, SUBMIT, { input: { type: 'test.long-backoff', payload: {} } })).body.data.submitJob.job.id as string;
  const job = await waitForJob(its.app.url, id, (j) => j.state !== 'QUEUED' && j.state !== 'RUNNING', 10_000);
  expect(job).toMatchObject({ state: 'RETRYING', attempts: 1, error: 'boom' });
  const dueIn = new Date(job.nextAttemptAt).getTime() - before;
  expect(dueIn).toBeGreaterThan(MAX_DELAY_MS - 60_000);
  expect(dueIn).toBeLessThanOrEqual(MAX_DELAY_MS + 60_000);
});
