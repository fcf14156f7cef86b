/**
 * A cancel that lands just as the running attempt fails (the handler throws before the worker hears of the
 * cancel): cancelJob has asked (the job is RUNNING, so it answers "cancel requested"), and the worker's
 * outcome would be RETRYING with a backoff, or, on the last attempt or with a PermanentJobError, FAILED with
 * a dead letter. The cancel must win: the job ends CANCELLED at once, not RETRYING until the backoff runs out
 * (here a minute) and cancelled only when its message comes back, and not FAILED in the dead-letter stream
 * (with failure notifications) for a job its owner had cancelled.
 *
 * The worker's NATS link is slowed (a proxy delays what NATS sends it by 2 s), so the cancel message reaches
 * it after the handler has thrown, deterministically.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { useProxiedApps } from '../support/app.js';
import { deadLetterCopiesOf } from '../support/dead-letter-copies.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { PermanentJobError } from '../../src/errors.js';
import { defineHandler } from '../../workers/handler.js';

/** Fails when the test says so: `{ permanent: true }` for good, else retryably (the next attempt a minute later). */
const failJob = defineJobType({
  name: 'test.fail-on-cue',
  description: 'throws on cue',
  payload: z.object({ permanent: z.boolean() }),
  maxAttempts: 3,
  backoff: { baseMs: 60_000, maxMs: 60_000, jitter: 0 },
});
let cue: () => void = () => {};
const failHandler = defineHandler(failJob, async (payload) => {
  await new Promise<void>((resolve) => (cue = resolve));
  throw payload.permanent ? new PermanentJobError('disk gone') : new Error('disk full');
});

const types = [...BUILTIN_JOB_TYPES, failJob];
/** `direct`: the API alone; `proxied`: the workers, on NATS through the proxy. */
const f = useProxiedApps({
  service: 'NATS_URL',
  direct: { types, handlers: null, config: { ACK_WAIT_MS: '30000' } },
  proxied: { types, handlers: [failHandler], config: { ACK_WAIT_MS: '30000' } },
});

const CANCEL = /* GraphQL */ `mutation C($id: ID!) { cancelJob(id: $id) { job { state } userErrors { code } } }`;

it.each([
  { when: 'attempts are left (it would be RETRYING)', maxAttempts: 3, permanent: false },
  { when: 'it is the last attempt (it would be FAILED)', maxAttempts: 1, permanent: false },
  { when: 'the handler threw a PermanentJobError (it would be FAILED)', maxAttempts: 3, permanent: true },
])('a job whose attempt fails as its cancel is asked for ends CANCELLED at once when $when', async ({ maxAttempts, permanent }) => {
  const { proxy, direct: api } = f;
  const input = { type: 'test.fail-on-cue', payload: { permanent }, maxAttempts };
  const id = (await gql(api.url, SUBMIT, { input })).body.data.submitJob.job.id as string;
  await waitForJob(api.url, id, (j) => j.state === 'RUNNING');
  proxy.slow(2000);
  try {
    expect((await gql(api.url, CANCEL, { id })).body.data.cancelJob).toEqual({ job: { state: 'RUNNING' }, userErrors: [] });
    cue(); // the handler throws before the cancel reaches its worker

    const job = await waitForJob(api.url, id, (j) => j.state !== 'RUNNING', 10_000);
    expect(job).toMatchObject({ state: 'CANCELLED', nextAttemptAt: null });
    expect(job.finishedAt).not.toBeNull();
    expect(job.events.map((e: { state: string }) => e.state)).toEqual(['QUEUED', 'RUNNING', 'CANCELLED']);
    expect(await deadLetterCopiesOf(api.app.deps, id)).toEqual([]);
  } finally {
    proxy.slow(0);
  }
});
