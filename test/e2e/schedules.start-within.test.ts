/**
 * A schedule's start window (`ScheduleInput.startWithinMs`): each run's job gets `startBy` = the run's time (when
 * it was due, not when its job was made) + the window. A run made past its window (every API process down
 * meanwhile) makes a job that expires at once, never started, not dead-lettered, its FAILED notification sent,
 * even with a worker free for it; a `runSchedule` job's window counts from now, and one nobody runs expires at its
 * end; within its window a job runs as any; a window out of range is refused on its field, nothing stored; the
 * SDK reads it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_HANDLERS } from '../../workers/registry.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql } from '../support/graphql.js';
import { createClient } from '../../sdk/index.js';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';

/** A type this file's workers have no handler for: nothing pulls its messages. */
const unhandledJob = defineJobType({ name: 'test.unhandled', description: 'no worker runs it', payload: z.object({}) });

let t: TestApp;
let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  t = await startTestApp({
    types: [...BUILTIN_JOB_TYPES, unhandledJob],
    handlers: BUILTIN_HANDLERS, // workers for the built-in types
    config: { WEBHOOK_SECRET: 'test-webhook-secret-0123456789', WEBHOOK_ALLOW_PRIVATE: '1' },
  });
});
afterAll(async () => {
  await t?.dispose();
  await receiver?.close();
});

const JOB_FIELDS = 'id state startBy error attempts startedAt idempotencyKey notifications { jobState status }';
const SCHEDULE_FIELDS = `name startWithinMs runs lastRunAt lastJob { ${JOB_FIELDS} }`;
const UPSERT = `mutation ($input: ScheduleInput!) { upsertSchedule(input: $input) { schedule { ${SCHEDULE_FIELDS} } userErrors { code field message } } }`;
const RUN = `mutation ($name: String!) { runSchedule(name: $name) { job { ${JOB_FIELDS} } schedule { ${SCHEDULE_FIELDS} } userErrors { code field message } } }`;
const SCHEDULES = `query { schedules { ${SCHEDULE_FIELDS} } }`;

const upsert = async (input: Record<string, unknown>) => (await gql(t.url, UPSERT, { input })).body.data.upsertSchedule;
async function made(input: Record<string, unknown>): Promise<any> {
  const r = await upsert(input);
  expect(r.userErrors).toEqual([]);
  return r.schedule;
}
const scheduleNamed = async (name: string) => ((await gql(t.url, SCHEDULES)).body.data.schedules as any[]).find((s) => s.name === name);
/** `at` + `ms`, as the API writes an instant. */
const plus = (at: string, ms: number) => new Date(Date.parse(at) + ms).toISOString();

it('a run made past its window makes a job that expires at once (FAILED, never started, notified), a worker free for it or not', async () => {
  const hook = `${receiver.url}/late-report`;
  const s = await made({ name: 'report', type: 'demo.noop', cron: '@daily', startWithinMs: 60_000, notify: [{ webhook: hook, on: ['FAILED'] }] });
  expect(s).toMatchObject({ startWithinMs: 60_000, runs: 0, lastJob: null });
  // As if every API process had been down since an hour ago, when it was due: the scheduler makes that run now.
  await t.env.sql`update schedules set next_run_at = date_trunc('second', now()) - interval '1 hour' where name = 'report'`;

  const done = await eventually(async () => {
    const x = await scheduleNamed('report');
    return x.lastJob?.state === 'FAILED' && x.lastJob.notifications[0]?.status === 'SENT' && x;
  }, 30_000, 'the late run to expire and be notified');
  const startBy = plus(done.lastRunAt, 60_000); // its due time + the window, long past when the job was made
  expect(Date.now() - Date.parse(done.lastRunAt)).toBeGreaterThan(3_500_000);
  expect(done).toMatchObject({ startWithinMs: 60_000, runs: 1 });
  expect(done.lastJob).toEqual({
    id: done.lastJob.id,
    state: 'FAILED',
    startBy,
    error: `expired: not started by ${startBy}`,
    attempts: 0,
    startedAt: null,
    idempotencyKey: `schedule:report:${done.lastRunAt}`,
    notifications: [{ jobState: 'FAILED', status: 'SENT' }],
  });
  const [row] = await t.env.sql<{ deadLettered: boolean }[]>`select dead_lettered_at is not null as "deadLettered" from jobs where id = ${done.lastJob.id}`;
  expect(row).toEqual({ deadLettered: false });
  const posted = receiver.requests.filter((r) => r.path === '/late-report').map((r) => JSON.parse(r.raw).job);
  expect(posted).toEqual([expect.objectContaining({ id: done.lastJob.id, state: 'FAILED', error: `expired: not started by ${startBy}` })]);
}, 60_000);

it("runSchedule's job must start within the window from now: one nobody runs expires at its end", async () => {
  expect((await made({ name: 'unrun', type: unhandledJob.name, cron: '@yearly', startWithinMs: 1500 })).startWithinMs).toBe(1500);
  const r = (await gql(t.url, RUN, { name: 'unrun' })).body.data.runSchedule;
  expect(r.userErrors).toEqual([]);
  const startBy = plus(r.schedule.lastRunAt, 1500); // the run's time is now (PostgreSQL's)
  expect(r.job).toMatchObject({ state: 'QUEUED', startBy, error: null });
  const expired = await eventually(async () => {
    const x = await scheduleNamed('unrun');
    return x.lastJob?.state === 'FAILED' && x;
  }, 30_000, 'the job to expire');
  expect(expired.lastJob).toMatchObject({ id: r.job.id, state: 'FAILED', error: `expired: not started by ${startBy}`, attempts: 0, startedAt: null });
}, 60_000);

it('a run within its window runs as any job when a worker is free, its startBy its run time + the window', async () => {
  await made({ name: 'on-time', type: 'demo.sleep', payload: { ms: 1, steps: 0 }, cron: '@yearly', startWithinMs: 600_000 });
  await t.env.sql`update schedules set next_run_at = date_trunc('second', now()) - interval '1 second' where name = 'on-time'`;
  const done = await eventually(async () => {
    const x = await scheduleNamed('on-time');
    return (x.lastJob?.state === 'SUCCEEDED' || x.lastJob?.state === 'FAILED') && x;
  }, 30_000, 'the run to finish');
  const startBy = plus(done.lastRunAt, 600_000);
  expect(done.lastJob).toMatchObject({ state: 'SUCCEEDED', startBy, error: null, attempts: 1 });
  expect(Date.parse(done.lastJob.startedAt)).toBeLessThan(Date.parse(startBy));
}, 60_000);

it('refuses a window under a second, or not an Int (past 2147483647 ms), storing nothing; one left out is none', async () => {
  const base = { name: 'windowed', type: 'demo.noop', cron: '@yearly' };
  for (const startWithinMs of [0, 999, -1000]) {
    expect(await upsert({ ...base, startWithinMs }), String(startWithinMs)).toEqual({
      schedule: null,
      userErrors: [{ code: 'OUT_OF_RANGE', field: ['input', 'startWithinMs'], message: 'startWithinMs must be between 1000 and 2147483647' }],
    });
  }
  // GraphQL's Int refuses these before the server looks: the request is refused whole.
  for (const startWithinMs of [2_147_483_648, 366 * 86_400_000, 1500.5]) {
    const r = await gql(t.url, UPSERT, { input: { ...base, startWithinMs } });
    expect(r.body.data, String(startWithinMs)).toBeUndefined();
    expect(r.body.errors?.[0]?.extensions?.code, String(startWithinMs)).toBe('BAD_USER_INPUT');
  }
  expect(await t.env.sql`select name from schedules where name = 'windowed'`).toEqual([]);

  // The bounds are taken; a replace that leaves it out has none.
  expect((await made({ ...base, startWithinMs: 1000 })).startWithinMs).toBe(1000);
  expect((await made({ ...base, startWithinMs: 2_147_483_647 })).startWithinMs).toBe(2_147_483_647);
  // A refused replace leaves the stored one as it was.
  expect((await upsert({ ...base, cron: '@daily', startWithinMs: 999 })).userErrors).toHaveLength(1);
  expect(await t.env.sql`select cron, start_within_ms from schedules where name = 'windowed'`).toEqual([{ cron: '@yearly', start_within_ms: 2_147_483_647 }]);
  expect((await made(base)).startWithinMs).toBeNull();
  expect(await t.env.sql`select start_within_ms from schedules where name = 'windowed'`).toEqual([{ start_within_ms: null }]);
});

it('is in the SDK: upsertSchedule takes it, its answer and schedules read it back', async () => {
  const sdk = createClient({ url: t.url, token: t.key! });
  try {
    const r = await sdk.upsertSchedule({ name: 'sdk-windowed', type: 'demo.noop', cron: '@yearly', startWithinMs: 5000 });
    expect(r.userErrors).toEqual([]);
    expect(r.schedule?.startWithinMs).toBe(5000);
    expect((await sdk.schedules()).find((s) => s.name === 'sdk-windowed')?.startWithinMs).toBe(5000);
  } finally {
    await sdk.close();
  }
});
