/**
 * A cancel that lands just as the running attempt fails (the handler throws before the worker hears of the
 * cancel): cancelJob has asked (the job is RUNNING, so it answers "cancel requested"), and the worker's
 * outcome would be RETRYING with a backoff. The cancel must win: the job ends CANCELLED at once, not RETRYING
 * until the backoff runs out (here a minute) and cancelled only when its message comes back.
 *
 * The worker's NATS link is slowed (a proxy delays what NATS sends it by 2 s), so the cancel message reaches
 * it after the handler has thrown, deterministically.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestEnv, startTestApp, type TestApp, type TestEnv } from '../support/app.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTcpProxyFor, type TcpProxy } from '../support/proxy.js';
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

let env: TestEnv;
let proxy: TcpProxy;
/** API only. */
let api: TestApp;
/** Workers, on NATS through the proxy. */
let workers: TestApp;
beforeAll(async () => {
  env = await createTestEnv();
  const nats = await startTcpProxyFor(env.natsUrl);
  proxy = nats.proxy;
  const types = [...BUILTIN_JOB_TYPES, failJob];
  api = await startTestApp({ env, types, handlers: null, config: { ACK_WAIT_MS: '30000' } });
  workers = await startTestApp({ env, types, handlers: [failHandler], config: { NATS_URL: nats.url, ACK_WAIT_MS: '30000' } });
});
afterAll(async () => {
  proxy?.slow(0);
  await workers?.dispose();
  await api?.dispose();
  await proxy?.close();
  await env?.dispose();
});

const CANCEL = /* GraphQL */ `mutation C($id: ID!) { cancelJob(id: $id) { job { state } userErrors { code } } }`;

it('a job whose attempt fails as its cancel is asked for ends CANCELLED at once, not RETRYING', async () => {
  const id = (await gql(api.url, SUBMIT, { input: { type: 'test.fail-on-cue', payload: {} } })).body.data.submitJob.job.id as string;
  await waitForJob(api.url, id, (j) => j.state === 'RUNNING');
  proxy.slow(2000);
  expect((await gql(api.url, CANCEL, { id })).body.data.cancelJob).toEqual({ job: { state: 'RUNNING' }, userErrors: [] });
  cue(); // the handler throws before the cancel reaches its worker

  const job = await waitForJob(api.url, id, (j) => j.state !== 'RUNNING', 10_000);
  expect(job).toMatchObject({ state: 'CANCELLED', nextAttemptAt: null });
  expect(job.finishedAt).not.toBeNull();
  expect(job.events.map((e: { state: string }) => e.state)).toEqual(['QUEUED', 'RUNNING', 'CANCELLED']);
});
