/**
 * Jobs that must start by a deadline (`SubmitJobInput.startBy`), through the API and real workers: a job of a
 * type no worker runs expires (FAILED `expired: not started by <startBy>`, by the API's expiry pass), with its
 * history and its watchers' update; one a worker is free for runs as any job; one whose backoff pushes its
 * retry past its startBy expires RETRYING, its attempts kept; bad startBy input is refused with nothing
 * written; a paused type's job expires and its `retryJob` replay (startBy cleared) runs; `rescheduleJob` does
 * not move a job past its startBy; an expired job's FAILED notifications are sent as for any failure.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { PULL_EXPIRES_MS } from '../../src/messaging/pull.js';
import { BUILTIN_HANDLERS } from '../../workers/registry.js';
import { countRows, startTestApp, type TestApp } from '../support/app.js';
import { failsFirstAttempt } from '../support/effect-job.js';
import { collect, gql, PROGRESS, waitForJob, wsClient } from '../support/graphql.js';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';

/** A type this file's workers have no handler for: nothing pulls its messages. */
const unhandledJob = defineJobType({ name: 'test.unhandled', description: 'no worker runs it', payload: z.object({}) });
/** Fails its first attempt, retried 30 s later. */
const { type: retryLaterJob, handler: retryLaterHandler } = failsFirstAttempt('test.retry-later', 30000);

let t: TestApp;
let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  t = await startTestApp({
    types: [...BUILTIN_JOB_TYPES, unhandledJob, retryLaterJob],
    handlers: [...BUILTIN_HANDLERS, retryLaterHandler],
    config: { WEBHOOK_SECRET: 'test-webhook-secret-0123456789', WEBHOOK_ALLOW_PRIVATE: '1' },
  });
});
afterAll(async () => {
  await t?.dispose();
  await receiver?.close();
});

const JOB_FIELDS = 'id type state startBy runAt attempts error startedAt finishedAt events { state message attempt }';
const SUBMIT = `mutation($input: SubmitJobInput!) { submitJob(input: $input) { job { ${JOB_FIELDS} } userErrors { code field message } } }`;
const SUBMIT_MANY = `mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id } userErrors { code field message } } }`;
const JOB = `query($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`;
const RETRY = `mutation($id: ID!) { retryJob(id: $id) { job { state startBy } userErrors { code } } }`;
const RESCHEDULE = `mutation($id: ID!, $runAt: DateTime) { rescheduleJob(id: $id, runAt: $runAt) { job { state runAt } userErrors { code field message } } }`;

const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
const job = async (id: string) => (await gql(t.url, JOB, { id })).body.data.job;
async function submit(input: Record<string, unknown>): Promise<any> {
  const r = (await gql(t.url, SUBMIT, { input })).body.data.submitJob;
  expect(r.userErrors).toEqual([]);
  return r.job;
}
const stored = async (id: string) =>
  (await t.env.sql<{ deadLettered: boolean }[]>`select dead_lettered_at is not null as "deadLettered" from jobs where id = ${id}`)[0];

it('a job of a type no worker runs expires at its startBy: FAILED, never started, in its history and to its watchers', async () => {
  const startBy = inMs(1500);
  const submitted = await submit({ type: unhandledJob.name, startBy });
  expect(submitted).toMatchObject({ state: 'QUEUED', startBy, runAt: null });
  const watched = collect(wsClient(t.wsUrl), PROGRESS, { id: submitted.id });

  const done = await waitForJob(t.url, submitted.id, (j) => j.state === 'FAILED', 30_000);
  expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(startBy));
  const expired = `expired: not started by ${startBy}`;
  expect(await job(submitted.id)).toMatchObject({ state: 'FAILED', error: expired, attempts: 0, startedAt: null, startBy });
  expect(done.events.map((e: { state: string; message: string | null }) => [e.state, e.message])).toEqual([
    ['QUEUED', null],
    ['FAILED', expired],
  ]);
  expect(await stored(submitted.id)).toEqual({ deadLettered: false }); // not a dead letter
  const { values, errors } = await watched;
  expect(errors).toEqual([]);
  expect(values.at(-1)).toMatchObject({ state: 'FAILED', error: expired });
}, 60_000);

it('a job whose startBy is ahead runs as any job when a worker is free, and shows its startBy', async () => {
  const startBy = inMs(60_000);
  const submitted = await submit({ type: 'demo.sleep', payload: { ms: 1, steps: 0 }, startBy });
  const done = await waitForJob(t.url, submitted.id, (j) => j.state === 'SUCCEEDED' || j.state === 'FAILED');
  expect(done.state).toBe('SUCCEEDED');
  expect(await job(submitted.id)).toMatchObject({ state: 'SUCCEEDED', startBy, attempts: 1, error: null });
  expect(Date.parse(done.startedAt)).toBeLessThan(Date.parse(startBy));
}, 60_000);

it('a job whose retry is due after its startBy expires RETRYING: FAILED expired, its attempts kept', async () => {
  const startBy = inMs(4000); // its first attempt starts well before; its retry is due 30 s after that
  const submitted = await submit({ type: retryLaterJob.name, startBy });
  await waitForJob(t.url, submitted.id, (j) => j.state === 'RETRYING');
  const done = await waitForJob(t.url, submitted.id, (j) => j.state === 'FAILED', 20_000);
  expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(startBy));
  expect(done).toMatchObject({ error: `expired: not started by ${startBy}`, attempts: 1 });
  expect(done.events.map((e: { state: string }) => e.state)).toEqual(['QUEUED', 'RUNNING', 'RETRYING', 'FAILED']);
  expect(done.events.at(-1)).toMatchObject({ attempt: 1, message: `expired: not started by ${startBy}` });
  expect(await stored(submitted.id)).toEqual({ deadLettered: false });
}, 60_000);

it('refuses a startBy in the past, more than 366 days ahead, or not after runAt (OUT_OF_RANGE on startBy), and writes nothing', async () => {
  const before = await countRows(t.env.sql, 'jobs');
  const refusal = async (input: Record<string, unknown>) => (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1 }, ...input } })).body.data.submitJob;
  const err = (message: string, field = ['input', 'startBy']) => ({ job: null, userErrors: [{ code: 'OUT_OF_RANGE', field, message }] });

  expect(await refusal({ startBy: inMs(-1000) })).toEqual(err('startBy must be in the future'));
  expect(await refusal({ startBy: inMs(367 * 86_400_000) })).toEqual(err('startBy must be at most 366 days ahead'));
  const runAt = inMs(3_600_000);
  expect(await refusal({ runAt, startBy: inMs(60_000) })).toEqual(err(`startBy must be after runAt (${runAt})`));
  expect(await refusal({ runAt, startBy: runAt })).toEqual(err(`startBy must be after runAt (${runAt})`));

  const batch = (await gql(t.url, SUBMIT_MANY, {
    inputs: [
      { type: 'demo.sleep', payload: { ms: 1 }, startBy: inMs(60_000) },
      { type: 'demo.sleep', payload: { ms: 1 }, startBy: '2000-01-01T00:00:00.000Z' },
    ],
  })).body.data.submitJobs;
  expect(batch).toEqual({ jobs: null, userErrors: [{ code: 'OUT_OF_RANGE', field: ['inputs', '1', 'startBy'], message: 'startBy must be in the future' }] });

  expect(await countRows(t.env.sql, 'jobs')).toBe(before);
});

it("a paused type's job expires; its retryJob replay clears startBy and runs", async () => {
  const pause = `mutation($type: String!) { pauseJobType(type: $type) { userErrors { code } } }`;
  const resume = `mutation($type: String!) { resumeJobType(type: $type) { userErrors { code } } }`;
  expect((await gql(t.url, pause, { type: 'demo.noop' })).body.data.pauseJobType.userErrors).toEqual([]);
  try {
    await new Promise((r) => setTimeout(r, PULL_EXPIRES_MS + 1500)); // a pull already out when the pause was heard ends
    const startBy = inMs(1500);
    const submitted = await submit({ type: 'demo.noop', startBy });
    const done = await waitForJob(t.url, submitted.id, (j) => j.state !== 'QUEUED', 30_000);
    expect(done).toMatchObject({ state: 'FAILED', error: `expired: not started by ${startBy}`, attempts: 0 });
    expect((await gql(t.url, resume, { type: 'demo.noop' })).body.data.resumeJobType.userErrors).toEqual([]);

    expect((await gql(t.url, RETRY, { id: submitted.id })).body.data.retryJob).toEqual({ job: { state: 'QUEUED', startBy: null }, userErrors: [] });
    const replayed = await waitForJob(t.url, submitted.id, (j) => j.state === 'SUCCEEDED' || j.state === 'FAILED');
    expect(replayed).toMatchObject({ state: 'SUCCEEDED', attempts: 1, error: null });
  } finally {
    await gql(t.url, resume, { type: 'demo.noop' });
  }
}, 60_000);

it('rescheduleJob does not move a job to a runAt at or after its startBy (OUT_OF_RANGE on runAt); before it, it does', async () => {
  const startBy = inMs(3_600_000);
  const { id } = await submit({ type: unhandledJob.name, startBy });
  const late = (await gql(t.url, RESCHEDULE, { id, runAt: inMs(7_200_000) })).body.data.rescheduleJob;
  expect(late).toEqual({
    job: { state: 'QUEUED', runAt: null },
    userErrors: [{ code: 'OUT_OF_RANGE', field: ['runAt'], message: `runAt must be before the job's startBy (${startBy}): it would expire unrun` }],
  });
  expect(await job(id)).toMatchObject({ runAt: null, events: [{ state: 'QUEUED' }] });
  const runAt = inMs(1_800_000);
  expect((await gql(t.url, RESCHEDULE, { id, runAt })).body.data.rescheduleJob).toEqual({ job: { state: 'QUEUED', runAt }, userErrors: [] });
});

it("an expired job's FAILED notification is sent, as for any failure", async () => {
  const hook = `${receiver.url}/expired`;
  const startBy = inMs(1500);
  const { id } = await submit({ type: unhandledJob.name, startBy, notify: [{ webhook: hook, on: ['FAILED'] }] });
  const NOTIFICATIONS = `query($id: ID!) { job(id: $id) { state notifications { jobState status } } }`;
  const notified = await eventually(async () => {
    const j = (await gql(t.url, NOTIFICATIONS, { id })).body.data.job;
    return j.notifications[0]?.status === 'SENT' && j;
  }, 30_000, 'the notification sent');
  expect(notified).toEqual({ state: 'FAILED', notifications: [{ jobState: 'FAILED', status: 'SENT' }] });
  const posted = receiver.requests.filter((r) => r.path === '/expired').map((r) => JSON.parse(r.raw).job);
  expect(posted).toEqual([expect.objectContaining({ id, state: 'FAILED', error: `expired: not started by ${startBy}` })]);
}, 60_000);
