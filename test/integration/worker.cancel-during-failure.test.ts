/**
 * A cancel that lands just as the running attempt fails (the handler throws before the worker hears of the
 * cancel): cancelJob has asked (the job is RUNNING, so it answers "cancel requested"), and the worker's
 * outcome would be RETRYING with a backoff. The cancel must win: the job ends CANCELLED at once, not RETRYING
 * until the backoff runs out (here a minute) and cancelled only when its message comes back.
 *
 * The worker's NATS link is slowed (a proxy delays what NATS sends it by 2 s), so the cancel message reaches
 * it after the handler has thrown, deterministically.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { useProxiedApps } from '../support/app.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineHandler } from '../../workers/handler.js';

/** Fails (retryably) when the test says so; the next attempt would come a minute later. */
const failJob = defineJobType({
  name: 'test.fail-on-cue',
  description: 'throws on cue',
  payload: z.object({}),
  maxAttempts: 3,
  backoff: { baseMs: 60_000, maxMs: 60_000, jitter: 0 },
});
let cue: () => void = () => {};
const failHandler = defineHandler(failJob, async () => {
  await new Promise<void>((resolve) => (cue = resolve));
  throw new Error('disk full');
});

const types = [...BUILTIN_JOB_TYPES, failJob];
/** `direct`: the API alone; `proxied`: the workers, on NATS through the proxy. */
const f = useProxiedApps({
  service: 'NATS_URL',
  direct: { types, handlers: null, config: { ACK_WAIT_MS: '30000' } },
  proxied: { types, handlers: [failHandler], config: { ACK_WAIT_MS: '30000' } },
});

const CANCEL = /* GraphQL */ `mutation C($id: ID!) { cancelJob(id: $id) { job { state } userErrors { code } } }`;

it('a job whose attempt fails as its cancel is asked for ends CANCELLED at once, not RETRYING', async () => {
  const { proxy, direct: api } = f;
  const id = (await gql(api.url, SUBMIT, { input: { type: 'test.fail-on-cue', payload: {} } })).body.data.submitJob.job.id as string;
  await waitForJob(api.url, id, (j) => j.state === 'RUNNING');
  proxy.slow(2000);
  expect((await gql(api.url, CANCEL, { id })).body.data.cancelJob).toEqual({ job: { state: 'RUNNING' }, userErrors: [] });
  cue(); // the handler throws before the cancel reaches its worker

  const job = await waitForJob(api.url, id, (j) => j.state !== 'RUNNING', 10_000);
  expect(job).toMatchObject({ state: 'CANCELLED', nextAttemptAt: null });
  expect(job.finishedAt).not.toBeNull();
  expect(job.events.map((e: { state: string }) => e.state)).toEqual(['QUEUED', 'RUNNING', 'CANCELLED']);
  proxy.slow(0);
});
