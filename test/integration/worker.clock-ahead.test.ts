/**
 * A worker whose clock runs ahead of PostgreSQL's (by two minutes) is given a job's message before the job is
 * due: a QUEUED job rescheduled to run later while its message was in the stream already. The claim refuses
 * it (PostgreSQL's clock: not due), and the worker naks the message until the job is due, by PostgreSQL's clock.
 * Before, it reckoned by its own, found the job due already and nak'ed for a second, again and again: the
 * message's deliveries (5 for this type) ran out before the job was due, and the job was FAILED and
 * dead-lettered without ever running.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { createTestEnv, startTestApp, type TestApp, type TestEnv } from '../support/app.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { spawnWorker, type LongrunProcess } from '../support/processes.js';
import { soonJob } from '../support/soon-job.js';

const CONFIG = { ACK_WAIT_MS: '2000', SHUTDOWN_GRACE_MS: '0' };
const RESCHEDULE = /* GraphQL */ `mutation R($id: ID!, $runAt: DateTime) {
  rescheduleJob(id: $id, runAt: $runAt) { job { state runAt } userErrors { code } } }`;

let env: TestEnv;
let t: TestApp;
let worker: LongrunProcess | undefined;
beforeAll(async () => {
  env = await createTestEnv();
  t = await startTestApp({ env, types: [...BUILTIN_JOB_TYPES, soonJob], handlers: null, config: CONFIG });
});
afterAll(async () => {
  await worker?.kill('SIGKILL');
  await t?.dispose();
  await env?.dispose();
});

it('a job delivered early to a worker whose clock runs ahead waits until it is due by PostgreSQL, and runs', async () => {
  // Submitted with no worker running: its message waits in the stream. Then moved 20 s later.
  const id = (await gql(t.url, SUBMIT, { input: { type: 'test.soon', payload: {} } })).body.data.submitJob.job.id as string;
  const [db] = await env.sql<{ now: Date }[]>`select now()`;
  const runAt = new Date(db!.now.getTime() + 20_000).toISOString();
  const moved = (await gql(t.url, RESCHEDULE, { id, runAt })).body.data.rescheduleJob;
  expect(moved).toEqual({ job: { state: 'QUEUED', runAt }, userErrors: [] });

  worker = await spawnWorker({ ...env.env, ...CONFIG, CLOCK_AHEAD_MS: '120000' }, { clockAhead: true });
  const job = await waitForJob(t.url, id, (j) => j.finishedAt !== null, 90_000);
  expect({ state: job.state, attempts: job.attempts, result: job.result, error: job.error }).toEqual({
    state: 'SUCCEEDED',
    attempts: 1,
    result: { ran: true },
    error: null,
  });
  expect(new Date(job.startedAt).getTime()).toBeGreaterThanOrEqual(new Date(runAt).getTime());
}, 150_000);
