// @module-tag faults
/**
 * nats-server (file storage) SIGKILLed and restarted in the middle of 2,000 jobs: queued and in-flight jobs
 * continue afterwards, submits made while it is down are accepted and run, and a live subscription opened
 * before the restart still sees its job finish.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEnv, startTestApp, type TestApp, type TestEnv } from '../support/app.js';
import { collect, gql, PROGRESS, SUBMIT, wsClient } from '../support/graphql.js';
import { EFFECTS_TABLE, effectHandler, effectJob } from '../support/effect-job.js';
import { startPrivateNats, type PrivateNats } from '../setup/services.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { BUILTIN_HANDLERS } from '../../workers/registry.js';
import { expectNothingLost, report, submitLoad, untilJobs, verify } from './load.js';

const JOBS = Number(process.env.FAULT_JOBS ?? 2000);

let nats: PrivateNats;
let env: TestEnv;
let t: TestApp;
beforeAll(async () => {
  nats = await startPrivateNats();
  env = await createTestEnv({ natsUrl: nats.url });
  await env.sql.unsafe(EFFECTS_TABLE);
  process.env.EFFECTS_DATABASE_URL = env.databaseUrl; // the handlers run in this process
  t = await startTestApp({
    env,
    types: [...BUILTIN_JOB_TYPES, effectJob],
    handlers: [...BUILTIN_HANDLERS, effectHandler],
    config: { ACK_WAIT_MS: '3000', WORKER_CONCURRENCY: '50', LOG_LEVEL: process.env.FAULT_LOG ?? 'error' },
  });
});
afterAll(async () => {
  await t?.dispose();
  await env?.dispose().catch(() => {});
  await nats?.dispose();
});

it('continues every job across a nats-server kill and restart', async () => {
  // A subscriber watching a job that outlives the restart.
  const watched = (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 6000, steps: 6 } } })).body.data.submitJob.job.id;
  const client = wsClient(t.wsUrl);
  const watching = collect(client, PROGRESS, { id: watched });

  let killedAt = 0;
  let restartedAt = 0;
  const fault = (async () => {
    await untilJobs(env.sql, JOBS * 0.3);
    await nats.stop('SIGKILL');
    killedAt = Date.now();
    await new Promise((r) => setTimeout(r, 1500));
    await nats.start();
    restartedAt = Date.now();
  })();
  const load = await submitLoad({ urls: () => [t.url], count: JOBS, concurrency: 25 });
  await fault;
  const v = await verify(env.sql, load, { timeoutMs: 240_000, since: restartedAt });
  report('nats-restart', v, load);
  expect(killedAt).toBeGreaterThan(0);
  expectNothingLost(v, JOBS, expect);

  const { values, errors } = await watching;
  await client.dispose();
  expect(errors).toEqual([]);
  expect(values.at(-1)).toMatchObject({ jobId: watched, state: 'SUCCEEDED' });
});
