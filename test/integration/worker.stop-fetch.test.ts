/**
 * A worker stopped while jobs are on their way to it: every message its pull request was answered with is
 * handed back (nak'ed, redelivered once its pull has ended), none left unacked until the AckWait. With a long AckWait,
 * another worker started right after the stop runs every job soon; a message stranded with the stopping
 * worker would wait the whole AckWait.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineHandler } from '../../workers/handler.js';
import { startWorkerPool } from '../../workers/pool.js';
import type { WorkerPool } from '../../workers/runner.js';
import { gql, waitForJob } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';

const ROUNDS = 8;
const JOBS = 200;
const quickJob = defineJobType({ name: 'test.quick', description: 'returns at once', payload: z.object({}) });
const quickHandler = defineHandler(quickJob, async () => null);

let t: TestApp;
let pool: WorkerPool | null = null;
beforeAll(async () => {
  t = await startTestApp({
    types: [...BUILTIN_JOB_TYPES, quickJob],
    handlers: null,
    // Far beyond the test's wait: a job back before it came back because it was nak'ed.
    config: { ACK_WAIT_MS: '600000' },
  });
});
afterAll(async () => {
  await pool?.stop(5000);
  await t?.dispose();
});

const SUBMIT_JOBS = `mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id } userErrors { code } } }`;
const states = async () =>
  t.env.sql<{ state: string; n: number }[]>`select state::text, count(*)::int as n from jobs group by state order by state`;

it('hands back every message on its way to a stopping worker: a worker started next runs every job at once', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    pool = await startWorkerPool(t.config, t.app.deps, [quickHandler]);
    await new Promise((r) => setTimeout(r, 200)); // idle: its pull request waits on the server
    const submitted = gql(t.url, SUBMIT_JOBS, { inputs: Array.from({ length: JOBS }, () => ({ type: quickJob.name, payload: {} })) });
    // Stop while the messages are being delivered (a little later each round).
    await new Promise((r) => setTimeout(r, round * 3));
    const stopped = pool.stop(5000);
    expect((await submitted).body.data.submitJobs.userErrors).toEqual([]);
    await stopped;
    pool = null;
  }
  pool = await startWorkerPool(t.config, t.app.deps, [quickHandler]);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (await states()).some((s) => s.state !== 'SUCCEEDED')) await new Promise((r) => setTimeout(r, 200));
  expect(await states()).toEqual([{ state: 'SUCCEEDED', n: ROUNDS * JOBS }]);
}, 120_000);

it('gives a message that reaches a stopping worker back once, not straight into its pull again (each delivery counts)', async () => {
  const { nats, names } = t.app.deps;
  const deliveries = async () => (await nats.jsm.consumers.info(names.jobsStream, names.workerConsumer(quickJob.name))).delivered.consumer_seq;
  for (const wait of [10, 300, 600]) {
    pool = await startWorkerPool(t.config, t.app.deps, [quickHandler]);
    await new Promise((r) => setTimeout(r, 1300)); // idle: a pull request waits on the server
    const before = await deliveries();
    const stopped = pool.stop(5000);
    await new Promise((r) => setTimeout(r, wait));
    // One job while the stopping worker's pull is still out: nak'ed for immediate redelivery, that pull got
    // it straight back, up to its size (each delivery counted: a job caught by a few deploys, dead-lettered unrun).
    const id = (await gql(t.url, SUBMIT_JOBS, { inputs: [{ type: quickJob.name, payload: {} }] })).body.data.submitJobs.jobs[0].id;
    await stopped;
    pool = null;
    expect((await deliveries()) - before).toBeLessThanOrEqual(1);
    pool = await startWorkerPool(t.config, t.app.deps, [quickHandler]);
    await waitForJob(t.url, id, (j) => j.state === 'SUCCEEDED');
    expect((await t.env.sql<{ attempts: number }[]>`select attempts from jobs where id = ${id}`)[0]!.attempts).toBe(1);
    await pool.stop(5000);
    pool = null;
  }
}, 120_000);
