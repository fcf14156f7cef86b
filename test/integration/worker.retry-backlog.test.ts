/**
 * Jobs waiting out a backoff keep their message un-acked in JetStream (nak'ed with the delay), and the
 * type's consumer stops delivering at `max_ack_pending` un-acked messages. It was 20,000: once that many
 * jobs of a type were waiting for a retry (a downstream outage, a backoff of an hour), no job of that type
 * ran, new ones included, until backoffs ran out. Here 20,001 jobs wait an hour for their retry, and a new
 * job of the same type must still run.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { startTestApp } from '../support/app.js';
import { useFixture } from '../support/fixture.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { eventually } from '../support/streams.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineHandler } from '../../workers/handler.js';

const laterJob = defineJobType({
  name: 'test.retry-later',
  description: 'fails when asked, to be retried an hour later',
  payload: z.object({ fail: z.boolean() }),
  maxAttempts: 3,
  backoff: { baseMs: 3_600_000, maxMs: 3_600_000, jitter: 0 },
});
const laterHandler = defineHandler(laterJob, async (payload) => {
  if (payload.fail) throw new Error('downstream unavailable');
  return { ok: true };
});

const WAITING = 20_001;
const f = useFixture(async (later) => {
  const t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, laterJob], handlers: [laterHandler], config: { WORKER_CONCURRENCY: '100' } });
  later(() => t.dispose());
  return t;
});

it('runs a new job of a type with more than 20,000 jobs waiting for their retry', async () => {
  const SUBMIT_MANY = 'mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { userErrors { code } } }';
  for (let left = WAITING; left > 0; left -= 1000) {
    const inputs = Array.from({ length: Math.min(1000, left) }, () => ({ type: laterJob.name, payload: { fail: true } }));
    expect((await gql(f.url, SUBMIT_MANY, { inputs })).body.data.submitJobs.userErrors).toEqual([]);
  }
  const retrying = async () => (await f.env.sql<{ n: number }[]>`select count(*)::int as n from jobs where state = 'RETRYING'`)[0]!.n;
  await eventually(async () => (await retrying()) === WAITING, `${WAITING} jobs waiting for their retry`, 90_000);

  const id = (await gql(f.url, SUBMIT, { input: { type: laterJob.name, payload: { fail: false } } })).body.data.submitJob.job.id as string;
  const job = await waitForJob(f.url, id, (j) => j.state === 'SUCCEEDED', 60_000);
  expect(job.result).toEqual({ ok: true });
}, 300_000);
