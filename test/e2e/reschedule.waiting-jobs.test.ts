/**
 * `rescheduleJob`, through the API and real workers: a RETRYING job waiting out a long backoff runs now, once
 * (its old delayed message, when it comes, does not run it again); a scheduled job runs now, or later and not
 * before; a QUEUED job whose message is in the stream already (submitted, or replayed by retryJob) does not
 * start before its new runAt; a RETRYING job moved later does not start before it either; watchers see the
 * change. Refused: another state (INVALID_STATE), an unknown or another owner's id (NOT_FOUND), a runAt too far
 * ahead (OUT_OF_RANGE) or not a date-time; nothing is written then.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { countRows, startTestApp, workerSwitch, type TestApp, type WorkerSwitch } from '../support/app.js';
import { bearer, collect, gql, wsClient } from '../support/graphql.js';
import { sdkFor } from '../support/sdk.js';
import { eventually } from '../support/streams.js';
import type { Sql } from '../../src/db/client.js';
import { markCancelled } from '../../src/db/cancel.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineHandler, sleep } from '../../workers/handler.js';
import { BUILTIN_HANDLERS } from '../../workers/registry.js';

/** Fails its first attempt; its retry comes BACKOFF_MS later and takes `ms`. */
const BACKOFF_MS = 5000;
const backoffJob = defineJobType({
  name: 'test.backoff',
  description: 'fails its first attempt, retried after a fixed backoff',
  payload: z.object({ ms: z.number().int().min(0).default(0) }),
  maxAttempts: 3,
  backoff: { baseMs: BACKOFF_MS, factor: 1, maxMs: BACKOFF_MS, jitter: 0 },
});
const backoffHandler = defineHandler(backoffJob, async ({ ms }, ctx) => {
  if (ctx.attempt === 1) throw new Error('downstream unavailable');
  if (ms) await sleep(ms, ctx.signal);
  return { attempt: ctx.attempt };
});

let t: TestApp;
let workers: WorkerSwitch;
beforeAll(async () => {
  t = await startTestApp({ handlers: null, types: [...BUILTIN_JOB_TYPES, backoffJob] });
  workers = workerSwitch(t, [...BUILTIN_HANDLERS, backoffHandler]);
  await workers.start();
});
afterAll(async () => {
  await workers?.stop();
  await t?.dispose();
});

const JOB_FIELDS = 'id state runAt nextAttemptAt startedAt attempts seq events { seq state message attempt at }';
const SUBMIT = `mutation($input: SubmitJobInput!) { submitJob(input: $input) { job { ${JOB_FIELDS} } userErrors { code field message } } }`;
const RESCHEDULE = `mutation($id: ID!, $runAt: DateTime) {
  rescheduleJob(id: $id, runAt: $runAt) { job { ${JOB_FIELDS} } userErrors { code field message } } }`;
const JOB = `query($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`;

type Event = { seq: number; state: string; message: string | null; attempt: number; at: string };
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
const job = async (id: string, headers?: Record<string, string>) => (await gql(t.url, JOB, { id }, headers)).body.data.job;
async function until(id: string, done: (j: any) => boolean, timeoutMs = 30_000): Promise<any> {
  let last: any;
  await eventually(async () => done((last = await job(id))), `job ${id} to get there`, timeoutMs);
  return last;
}
async function submit(input: Record<string, unknown>, headers?: Record<string, string>) {
  const r = (await gql(t.url, SUBMIT, { input }, headers)).body.data.submitJob;
  expect(r.userErrors).toEqual([]);
  return r.job as { id: string; runAt: string | null };
}
const reschedule = (id: string, runAt?: string, headers?: Record<string, string>) => gql(t.url, RESCHEDULE, { id, runAt }, headers);
const runs = (j: { events: Event[] }) => j.events.filter((e) => e.state === 'RUNNING');
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The job's outbox entries: when each may go out, and whether it did. */
const entriesOf = (id: string) =>
  t.env.sql<{ msgId: string; notBefore: Date | null; published: boolean }[]>`
    select msg_id as "msgId", not_before as "notBefore", published_at is not null as published from outbox where job_id = ${id} order by id`;

it('RETRYING with a long backoff, rescheduled to now: runs at once, and its old delayed message does not run it again', async () => {
  // The retry takes longer than the rest of the backoff: the old message comes while it runs.
  const { id } = await submit({ type: backoffJob.name, payload: { ms: BACKOFF_MS + 1000 } });
  const retrying = await until(id, (j) => j.state === 'RETRYING');
  const dueBefore = Date.parse(retrying.nextAttemptAt);

  const r = (await reschedule(id)).body.data.rescheduleJob;
  expect(r.userErrors).toEqual([]);
  expect(r.job).toMatchObject({ state: 'RETRYING', attempts: 1, seq: retrying.seq + 1 });
  expect(Date.parse(r.job.nextAttemptAt)).toBeLessThan(dueBefore);
  // Its history has the reschedule as the change at the job's seq (the retry, which starts at once, may
  // already follow it: the events are read after the job).
  expect(r.job.events.find((e: Event) => e.seq === r.job.seq)).toMatchObject({ state: 'RETRYING', message: 'rescheduled to now', attempt: 1 });
  // A fresh copy of its message, under an id of its own (JetStream's dedupe would drop the job id's).
  const entries = await entriesOf(id);
  expect(entries).toHaveLength(2);
  expect(entries[1]!.msgId).toBe(`${id}:1:r${retrying.seq + 1}`);

  const running = await until(id, (j) => j.state === 'RUNNING' && j.attempts === 2);
  expect(Date.parse(running.startedAt)).toBeLessThan(dueBefore); // the retry started before the old backoff ended

  // Past the old backoff's end (the old message delivered meanwhile) and the retry's end: one retry ran.
  const done = await until(id, (j) => j.state === 'SUCCEEDED');
  while (Date.now() < dueBefore + 2000) await wait(200);
  const after = await job(id);
  expect(after).toMatchObject({ state: 'SUCCEEDED', attempts: 2, seq: done.seq });
  expect(runs(after).map((e) => e.attempt)).toEqual([1, 2]);
  expect(after.events.map((e: Event) => e.state)).toEqual(['QUEUED', 'RUNNING', 'RETRYING', 'RETRYING', 'RUNNING', 'SUCCEEDED']);
}, 60_000);

it('RETRYING rescheduled earlier than its backoff, not now: a fresh copy goes out at the new time, not before', async () => {
  const { id } = await submit({ type: backoffJob.name, payload: {} });
  const retrying = await until(id, (j) => j.state === 'RETRYING');
  const dueBefore = Date.parse(retrying.nextAttemptAt);
  const runAt = new Date(dueBefore - 3000).toISOString();

  const r = (await reschedule(id, runAt)).body.data.rescheduleJob;
  expect(r).toMatchObject({ job: { state: 'RETRYING', nextAttemptAt: runAt }, userErrors: [] });
  expect((await entriesOf(id)).at(-1)).toEqual({ msgId: `${id}:1:r${retrying.seq + 1}`, notBefore: new Date(runAt), published: false });

  const done = await until(id, (j) => j.state === 'SUCCEEDED');
  expect(runs(done).map((e) => e.attempt)).toEqual([1, 2]);
  expect(Date.parse(runs(done)[1]!.at)).toBeGreaterThanOrEqual(Date.parse(runAt));
  expect(Date.parse(runs(done)[1]!.at)).toBeLessThan(dueBefore);
}, 60_000);

it('RETRYING rescheduled later than its backoff: the retry does not start before the new time', async () => {
  const { id } = await submit({ type: backoffJob.name, payload: {} });
  const retrying = await until(id, (j) => j.state === 'RETRYING');
  const runAt = new Date(Date.parse(retrying.nextAttemptAt) + 3000).toISOString();

  const r = (await reschedule(id, runAt)).body.data.rescheduleJob;
  expect(r).toMatchObject({ job: { state: 'RETRYING', nextAttemptAt: runAt, runAt: null }, userErrors: [] });
  expect((await entriesOf(id)).length).toBe(1); // its message comes at the old time, and is nak'ed until the new one

  const done = await until(id, (j) => j.state === 'SUCCEEDED');
  expect(runs(done).map((e) => e.attempt)).toEqual([1, 2]);
  expect(Date.parse(runs(done)[1]!.at)).toBeGreaterThanOrEqual(Date.parse(runAt));
}, 60_000);

it('scheduled, rescheduled to now: runs at once, its entry published, runAt null', async () => {
  const runAt = inMs(3_600_000);
  const { id } = await submit({ type: 'demo.sleep', payload: { ms: 1, steps: 0 }, runAt });
  const r = (await reschedule(id, new Date(Date.now() - 1000).toISOString())).body.data.rescheduleJob; // past: now
  expect(r).toMatchObject({ job: { state: 'QUEUED', runAt: null }, userErrors: [] });

  const done = await until(id, (j) => j.state === 'SUCCEEDED');
  expect(Date.parse(done.startedAt)).toBeLessThan(Date.parse(runAt));
  expect(done.runAt).toBeNull();
  expect(done.events.map((e: Event) => [e.state, e.message])).toEqual([
    ['QUEUED', null],
    ['QUEUED', 'rescheduled to now'],
    ['RUNNING', null],
    ['SUCCEEDED', null],
  ]);
  // The relay marks its entry published once JetStream has acked the message: that can be after the job ran.
  await eventually(async () => (await entriesOf(id))[0]?.published === true, 'its entry published');
  expect(await entriesOf(id)).toMatchObject([{ msgId: id, notBefore: null, published: true }]);
}, 60_000);

it('scheduled, rescheduled later: its entry moves with it, and it does not start before the new runAt', async () => {
  const { id } = await submit({ type: 'demo.sleep', payload: { ms: 1, steps: 0 }, runAt: inMs(1500) });
  const runAt = inMs(4000);
  const r = (await reschedule(id, runAt)).body.data.rescheduleJob;
  expect(r).toMatchObject({ job: { state: 'QUEUED', runAt }, userErrors: [] });
  expect(r.job.events.at(-1).message).toBe(`rescheduled to ${runAt}`);
  expect(await entriesOf(id)).toEqual([{ msgId: id, notBefore: new Date(runAt), published: false }]);

  const done = await until(id, (j) => j.state === 'SUCCEEDED');
  expect(Date.parse(done.startedAt)).toBeGreaterThanOrEqual(Date.parse(runAt));
  expect(runs(done)).toHaveLength(1);
}, 60_000);

it('QUEUED with its message in the stream, rescheduled later: counted as scheduled, and not started before', async () => {
  await workers.stop();
  try {
    const { id } = await submit({ type: 'demo.sleep', payload: { ms: 1, steps: 0 } });
    await eventually(async () => (await entriesOf(id))[0]?.published === true, 'its message published');
    const runAt = inMs(3000);
    expect((await reschedule(id, runAt)).body.data.rescheduleJob).toMatchObject({ job: { state: 'QUEUED', runAt }, userErrors: [] });
    const stats = (await gql(t.url, '{ queueStats { type queued scheduled } }')).body.data.queueStats;
    expect(stats.find((s: { type: string }) => s.type === 'demo.sleep')).toEqual({ type: 'demo.sleep', queued: 1, scheduled: 1 });
    await workers.start(); // its message is delivered now, before its runAt

    const done = await until(id, (j) => j.state === 'SUCCEEDED');
    expect(Date.parse(done.startedAt)).toBeGreaterThanOrEqual(Date.parse(runAt));
    expect(runs(done)).toHaveLength(1);
  } finally {
    await workers.start();
  }
}, 60_000);

it('a retryJob replay (series 2) waiting in the stream, rescheduled later: not started before the new runAt', async () => {
  const { id } = await submit({ type: 'demo.flaky', payload: { permanent: true }, maxAttempts: 1 });
  await until(id, (j) => j.state === 'FAILED');
  await workers.stop();
  try {
    const retried = await gql(t.url, `mutation($id: ID!) { retryJob(id: $id) { job { state } userErrors { code } } }`, { id });
    expect(retried.body.data.retryJob).toEqual({ job: { state: 'QUEUED' }, userErrors: [] });
    await eventually(async () => (await entriesOf(id)).every((e) => e.published), 'its replay published');
    const runAt = inMs(3000);
    expect((await reschedule(id, runAt)).body.data.rescheduleJob).toMatchObject({ job: { state: 'QUEUED', runAt }, userErrors: [] });
    await workers.start();

    const again = await until(id, (j) => j.state === 'FAILED' && runs(j).length === 2);
    expect(Date.parse(runs(again)[1]!.at)).toBeGreaterThanOrEqual(Date.parse(runAt));
  } finally {
    await workers.start();
  }
}, 60_000);

it('jobProgress watchers see the reschedule as a change of its own, in order', async () => {
  const { id } = await submit({ type: 'demo.sleep', payload: { ms: 1, steps: 0 }, runAt: inMs(3_600_000) });
  const client = wsClient(t.wsUrl);
  try {
    let asked = false;
    const { values, errors } = await collect(client, `subscription($id: ID!) { jobProgress(id: $id) { seq state } }`, { id }, () => {
      if (!asked) void reschedule(id);
      asked = true;
    });
    expect(errors).toEqual([]);
    // Its snapshot, the reschedule (seq 2), then its run.
    const states = values.map((u: { state: string }) => u.state);
    expect(states.slice(0, 2)).toEqual(['QUEUED', 'QUEUED']);
    expect(values[1].seq).toBe(2);
    expect(new Set(states.slice(2, -1))).toEqual(new Set(['RUNNING']));
    expect(states.at(-1)).toBe('SUCCEEDED');
  } finally {
    await client.dispose();
  }
}, 60_000);

it('refuses a job that is not waiting (INVALID_STATE) and writes nothing', async () => {
  const { id } = await submit({ type: 'demo.sleep', payload: { ms: 1, steps: 0 } });
  const done = await until(id, (j) => j.state === 'SUCCEEDED');
  const entries = await countRows(t.env.sql, 'outbox');
  const r = (await reschedule(id)).body.data.rescheduleJob;
  expect(r.userErrors).toEqual([{ code: 'INVALID_STATE', field: ['id'], message: 'a SUCCEEDED job cannot be rescheduled (only QUEUED and RETRYING jobs can)' }]);
  expect(r.job).toMatchObject({ state: 'SUCCEEDED', seq: done.seq });
  expect(await job(id)).toEqual(done);
  expect(await countRows(t.env.sql, 'outbox')).toBe(entries);

  const long = await submit({ type: 'demo.sleep', payload: { ms: 60_000, steps: 1 } });
  const running = await until(long.id, (j) => j.state === 'RUNNING');
  expect((await reschedule(long.id, inMs(60_000))).body.data.rescheduleJob.userErrors[0].code).toBe('INVALID_STATE');
  expect((await job(long.id)).seq).toBe(running.seq);
  await gql(t.url, `mutation($id: ID!) { cancelJob(id: $id) { job { state } } }`, { id: long.id });
}, 60_000);

it('a cancel that commits while the reschedule waits for the row wins: INVALID_STATE, and nothing of the reschedule is written', async () => {
  const runAt = inMs(3_600_000);
  const { id } = await submit({ type: 'demo.sleep', payload: { ms: 1, steps: 0 }, runAt });
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const cancel = t.env.sql.begin(async (tx) => {
    const done = await markCancelled(tx as unknown as Sql, { id }); // cancelJob's statement, its commit held back
    locked();
    await released;
    return done;
  });
  await isLocked;
  const answer = reschedule(id);
  const waiting = async () =>
    (await t.env.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)[0]!.n > 0;
  await eventually(waiting, 'the reschedule to wait for the row');
  release();
  expect(await cancel).toMatchObject({ state: 'CANCELLED' });

  const r = (await answer).body.data.rescheduleJob;
  expect(r.userErrors).toEqual([{ code: 'INVALID_STATE', field: ['id'], message: 'a CANCELLED job cannot be rescheduled (only QUEUED and RETRYING jobs can)' }]);
  expect(await job(id)).toMatchObject({ state: 'CANCELLED', runAt, events: [{ state: 'QUEUED' }, { state: 'CANCELLED' }] });
  expect(await entriesOf(id)).toEqual([{ msgId: id, notBefore: new Date(runAt), published: false }]);
});

it('refuses a runAt more than 366 days ahead (OUT_OF_RANGE) or not a date-time, and writes nothing', async () => {
  const runAt = inMs(3_600_000);
  const { id } = await submit({ type: 'demo.sleep', payload: { ms: 1, steps: 0 }, runAt });
  const before = await job(id);
  const far = (await reschedule(id, inMs(367 * 86_400_000))).body.data.rescheduleJob;
  expect(far).toMatchObject({ job: { id, runAt }, userErrors: [{ code: 'OUT_OF_RANGE', field: ['runAt'], message: 'runAt must be at most 366 days ahead' }] });
  const notADate = await reschedule(id, 'tomorrow');
  expect(notADate.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  expect(await job(id)).toEqual(before);
  expect(await entriesOf(id)).toEqual([{ msgId: id, notBefore: new Date(runAt), published: false }]);
  await gql(t.url, `mutation($id: ID!) { cancelJob(id: $id) { job { state } } }`, { id });
});

it("an unknown id, or another owner's job: NOT_FOUND alike, and the job is untouched; an admin may", async () => {
  const alice = { authorization: bearer((await t.createKey('alice')).key) };
  const bob = { authorization: bearer((await t.createKey('bob')).key) };
  const runAt = inMs(3_600_000);
  const { id } = await submit({ type: 'demo.sleep', payload: { ms: 1, steps: 0 }, runAt }, bob);
  const before = await job(id, bob);

  const other = await reschedule(id, undefined, alice);
  const missing = await reschedule(randomUUID(), undefined, alice);
  expect(other.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  expect(other.body).toEqual(missing.body);
  expect((await reschedule('not-a-uuid', undefined, alice)).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  expect(await job(id, bob)).toEqual(before);

  const later = inMs(7_200_000);
  expect((await reschedule(id, later, bob)).body.data.rescheduleJob).toMatchObject({ job: { runAt: later }, userErrors: [] });
  expect((await reschedule(id, runAt)).body.data.rescheduleJob).toMatchObject({ job: { runAt }, userErrors: [] }); // the admin key
  await gql(t.url, `mutation($id: ID!) { cancelJob(id: $id) { job { state } } }`, { id });
});

it('the SDK: rescheduleJob(id, { runAt }) moves the job, rescheduleJob(id) runs it now', async () => {
  const sdk = sdkFor(t);
  try {
    const { id } = await submit({ type: 'demo.sleep', payload: { ms: 1, steps: 0 }, runAt: inMs(3_600_000) });
    const runAt = inMs(7_200_000);
    expect(await sdk.rescheduleJob(id, { runAt })).toMatchObject({ job: { id, state: 'QUEUED', runAt }, userErrors: [] });
    expect(await sdk.rescheduleJob(id)).toMatchObject({ job: { id, state: 'QUEUED', runAt: null }, userErrors: [] });
    await until(id, (j) => j.state === 'SUCCEEDED');
    expect((await sdk.rescheduleJob(id)).userErrors).toMatchObject([{ code: 'INVALID_STATE', field: ['id'] }]);
  } finally {
    await sdk.close();
  }
});
