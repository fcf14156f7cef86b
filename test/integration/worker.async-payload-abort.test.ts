/**
 * A job whose payload schema checks asynchronously (an async refine: a lookup) is parsed again by the worker
 * before its handler runs. A cancel that arrives while that parse is still waiting ends the attempt there: the
 * handler never starts and the job is CANCELLED (its slot free again), whenever the lookup answers, if ever.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { defineHandler } from '../../workers/handler.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';

/** While set, the lookup waits for it (the submit's own check has passed by then); `entered` says it waits. */
let hold: { entered: () => void; answer: Promise<boolean> } | null = null;
const lookup = async () => (hold ? (hold.entered(), hold.answer) : true);
const looked = defineJobType({
  name: 'test.looked-up',
  description: 'a payload checked by an async lookup',
  payload: z.object({}).refine(lookup, { message: 'not found' }),
});
const ran: string[] = [];
/** Stops on its signal, as a handler should. */
const handler = defineHandler(looked, async (_p, ctx) => {
  ran.push(ctx.jobId);
  await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
  return 'stopped';
});

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, looked], handlers: [handler], config: { WORKER_CONCURRENCY: '1' } });
});
afterAll(async () => {
  await t?.dispose();
});

const CANCEL = /* GraphQL */ `mutation C($id: ID!) { cancelJob(id: $id) { job { id state } userErrors { code field message } } }`;

it('a job cancelled while the worker awaits its payload check never runs its handler, and ends CANCELLED', async () => {
  let answer!: (ok: boolean) => void;
  let entered!: () => void;
  const waiting = new Promise<void>((r) => (entered = r));
  const r = await gql(t.url, SUBMIT, { input: { type: 'test.looked-up', payload: {} } });
  expect(r.body.data.submitJob.userErrors).toEqual([]);
  const id = r.body.data.submitJob.job.id as string;
  hold = { entered, answer: new Promise<boolean>((res) => (answer = res)) };
  await waiting; // the worker's parse waits on the lookup
  const c = await gql(t.url, CANCEL, { id });
  expect(c.body.data.cancelJob.userErrors).toEqual([]);
  const job = await waitForJob(t.url, id, (j) => j.state === 'CANCELLED', 5000);
  expect(job).toMatchObject({ state: 'CANCELLED' });
  answer(true); // the lookup answers late: nothing runs
  hold = null;
  await new Promise((res) => setTimeout(res, 200));
  expect(ran).toEqual([]);

  // The one slot is free: the next job runs.
  const next = await gql(t.url, SUBMIT, { input: { type: 'test.looked-up', payload: {} } });
  const nextId = next.body.data.submitJob.job.id as string;
  await waitForJob(t.url, nextId, (j) => j.state === 'RUNNING', 5000);
  for (let i = 0; i < 100 && !ran.includes(nextId); i++) await new Promise((res) => setTimeout(res, 20));
  expect(ran).toEqual([nextId]);
  await gql(t.url, CANCEL, { id: nextId });
  await waitForJob(t.url, nextId, (j) => j.state === 'CANCELLED', 5000);
});
