/**
 * A handler that keeps its worker's event loop busy past the end of the pull request out: the messages the
 * server sent that pull meanwhile (still unread in the socket when the loop comes back) reach the worker and
 * run at once. A pull stopped before they were read would drop them, and with a long AckWait they would wait
 * ten minutes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/app.js';
import { EFFECTS_TABLE, effectJob } from '../support/effect-job.js';
import { gql } from '../support/graphql.js';
import { spawnApi, spawnWorker, type LongrunProcess } from '../support/processes.js';

const CONFIG = { ACK_WAIT_MS: '600000', WORKER_CONCURRENCY: '4', LOG_LEVEL: 'warn' };
const SUBMIT_JOBS = `mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id } userErrors { code } } }`;

let env: TestEnv;
let api: LongrunProcess;
let worker: LongrunProcess;
beforeAll(async () => {
  env = await createTestEnv();
  await env.sql.unsafe(EFFECTS_TABLE);
  api = await spawnApi({ ...env.env, ...CONFIG, WORKER_CONCURRENCY: '0' }, { withEffects: true });
  worker = await spawnWorker({ ...env.env, ...CONFIG }, { withEffects: true });
}, 180_000);
afterAll(async () => {
  await worker?.kill('SIGKILL');
  await api?.kill('SIGTERM');
  await env?.dispose();
});

const submit = async (payloads: object[]): Promise<string[]> => {
  const r = await gql(api.url, SUBMIT_JOBS, { inputs: payloads.map((payload) => ({ type: effectJob.name, payload })) });
  expect(r.body.data.submitJobs.userErrors).toEqual([]);
  return r.body.data.submitJobs.jobs.map((j: { id: string }) => j.id);
};
const succeeded = async (ids: string[]) =>
  (await env.sql<{ n: number }[]>`select count(*)::int as n from jobs where id = any(${ids}::uuid[]) and state = 'SUCCEEDED'`)[0]!.n;

it('runs the jobs delivered while a handler blocked the worker past its pull’s end at once', async () => {
  for (let round = 0; round < 3; round++) {
    await new Promise((r) => setTimeout(r, 1300)); // idle: the worker's pull request waits on the server
    // This job's handler blocks the worker for longer than its pull request lives (1 s, plus the margin).
    const [blocker] = await submit([{ block: 2000 }]);
    await new Promise((r) => setTimeout(r, 300)); // the worker is blocked now
    const jobs = await submit(Array.from({ length: 10 }, () => ({})));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (await succeeded([blocker!, ...jobs])) < 11) await new Promise((r) => setTimeout(r, 100));
    expect(await succeeded([blocker!, ...jobs])).toBe(11);
  }
}, 120_000);
