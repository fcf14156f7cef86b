/**
 * Scheduled jobs (`SubmitJobInput.runAt`), through the API and real workers: a scheduled job stays QUEUED,
 * its message kept out of the stream (its outbox entry waits in PostgreSQL), until its runAt, and then runs;
 * it survives an API restart while it waits; cancelled before then it never runs; bad runAt input is refused
 * with nothing written; a batch mixes scheduled and unscheduled inputs; a replay runs at once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { countRows, createTestEnv, startTestApp, type TestApp, type TestEnv } from '../support/app.js';
import { gql } from '../support/graphql.js';
import { eventually, inStream } from '../support/streams.js';

let env: TestEnv;
let t: TestApp;
beforeAll(async () => {
  env = await createTestEnv();
  t = await startTestApp({ env });
});
afterAll(async () => {
  await t?.dispose();
  await env?.dispose();
});

const JOB_FIELDS = 'id type state runAt createdAt startedAt finishedAt attempts events { state }';
const SUBMIT = `mutation($input: SubmitJobInput!) { submitJob(input: $input) { job { ${JOB_FIELDS} } userErrors { code field message } } }`;
const SUBMIT_MANY = `mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id state runAt } userErrors { code field message } } }`;
const JOB = `query($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`;

const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
const job = async (id: string) => (await gql(t.url, JOB, { id })).body.data.job;
async function until(id: string, done: (j: any) => boolean, timeoutMs = 30_000): Promise<any> {
  let last: any;
  await eventually(async () => done((last = await job(id))), `job ${id} to get there`, timeoutMs);
  return last;
}
/** The job's outbox entries: whether each was published, and at which stream sequence. */
const entriesOf = async (id: string) =>
  env.sql<{ published: boolean; seq: number | null }[]>`
    select published_at is not null as published, stream_seq::int as seq from outbox where job_id = ${id} order by id`;

it('stays QUEUED, its message out of the stream, until its runAt, then runs to SUCCEEDED, started at or after it', async () => {
  const runAt = inMs(3000);
  const r = (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1 }, runAt } })).body.data.submitJob;
  expect(r.userErrors).toEqual([]);
  expect(r.job).toMatchObject({ state: 'QUEUED', runAt, startedAt: null });
  const id = r.job.id as string;

  // Until shortly before its runAt: queued, never started, its entry unpublished.
  while (Date.now() < Date.parse(runAt) - 500) {
    expect(await job(id)).toMatchObject({ state: 'QUEUED', startedAt: null, attempts: 0, events: [{ state: 'QUEUED' }] });
    expect(await entriesOf(id)).toEqual([{ published: false, seq: null }]);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const done = await until(id, (j) => j.state === 'SUCCEEDED');
  expect(Date.parse(done.startedAt)).toBeGreaterThanOrEqual(Date.parse(runAt));
  expect(done.runAt).toBe(runAt);
  expect(done.attempts).toBe(1);
  expect([...new Set(done.events.map((e: { state: string }) => e.state))]).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED']);
}, 60_000);

it('published early (as an API older than migration 0012 relays it), it still does not start before its runAt', async () => {
  const runAt = inMs(3000);
  // No progress steps: a progress milestone, recorded or not as the throttle falls, is a RUNNING row of its own.
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1, steps: 0 }, runAt } })).body.data.submitJob.job.id as string;
  // What an older relay does with every entry waiting over 2 s: publish it, and mark it published.
  const [e] = await env.sql<{ id: string; subject: string; msgId: string; body: unknown }[]>`
    select id, subject, msg_id as "msgId", body from outbox where job_id = ${id}`;
  const pa = await t.app.deps.nats.js.publish(e!.subject, JSON.stringify(e!.body), { msgID: e!.msgId });
  await env.sql`update outbox set published_at = now(), stream_seq = ${pa.seq} where id = ${e!.id}`;

  while (Date.now() < Date.parse(runAt) - 500) {
    expect(await job(id)).toMatchObject({ state: 'QUEUED', startedAt: null, attempts: 0 });
    await new Promise((r) => setTimeout(r, 100));
  }
  const done = await until(id, (j) => j.state === 'SUCCEEDED');
  expect(Date.parse(done.startedAt)).toBeGreaterThanOrEqual(Date.parse(runAt));
  expect(done.attempts).toBe(1);
  expect(done.events.map((ev: { state: string }) => ev.state)).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED']);
}, 60_000);

it('survives an API restart while it waits: the new process publishes it when due', async () => {
  const runAt = inMs(4000);
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1 }, runAt } })).body.data.submitJob.job.id as string;
  await t.dispose(); // the env stays: the same database and streams
  t = await startTestApp({ env });
  expect(await job(id)).toMatchObject({ state: 'QUEUED', startedAt: null, runAt });
  const done = await until(id, (j) => j.state === 'SUCCEEDED');
  expect(Date.parse(done.startedAt)).toBeGreaterThanOrEqual(Date.parse(runAt));
  expect(done.attempts).toBe(1);
  // The relay marks its entry published once JetStream has acked the message: that can be after the job ran.
  await eventually(async () => (await entriesOf(id))[0]?.published === true, 'its entry published');
  expect(await entriesOf(id)).toEqual([{ published: true, seq: expect.any(Number) }]);
}, 60_000);

it('cancelled before its runAt, it never runs, and its message is never published', async () => {
  const runAt = inMs(1500);
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1 }, runAt } })).body.data.submitJob.job.id as string;
  const c = await gql(t.url, `mutation($id: ID!) { cancelJob(id: $id) { job { state } userErrors { code } } }`, { id });
  expect(c.body.data.cancelJob).toEqual({ job: { state: 'CANCELLED' }, userErrors: [] });

  // Once due, a relay pass takes its entry (marked published) without publishing a message.
  await eventually(async () => (await entriesOf(id))[0]?.published === true, 'the entry is taken once due');
  expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(runAt));
  expect(await entriesOf(id)).toEqual([{ published: true, seq: null }]);
  expect(await inStream(t.app.deps, id)).toBe(false);
  expect(await job(id)).toMatchObject({ state: 'CANCELLED', startedAt: null, attempts: 0, events: [{ state: 'QUEUED' }, { state: 'CANCELLED' }] });
}, 60_000);

it('refuses a runAt more than 366 days ahead (OUT_OF_RANGE) or not a date-time, and writes nothing', async () => {
  const before = await countRows(env.sql, 'jobs');
  const far = (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1 }, runAt: inMs(367 * 86_400_000) } })).body.data.submitJob;
  expect(far).toEqual({ job: null, userErrors: [{ code: 'OUT_OF_RANGE', field: ['input', 'runAt'], message: 'runAt must be at most 366 days ahead' }] });

  const batch = (await gql(t.url, SUBMIT_MANY, {
    inputs: [
      { type: 'demo.sleep', payload: { ms: 1 } },
      { type: 'demo.sleep', payload: { ms: 1 }, runAt: '9999-12-31T23:59:59.999Z' },
    ],
  })).body.data.submitJobs;
  expect(batch).toEqual({ jobs: null, userErrors: [{ code: 'OUT_OF_RANGE', field: ['inputs', '1', 'runAt'], message: 'runAt must be at most 366 days ahead' }] });

  const notADate = await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1 }, runAt: 'tomorrow' } });
  expect(notADate.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  expect(notADate.body.data).toBeUndefined();

  expect(await countRows(env.sql, 'jobs')).toBe(before);
  expect(await countRows(env.sql, 'outbox', `created_at > now() - interval '1 minute' and published_at is null`)).toBe(0);
});

it('submitJobs takes runAt per input: unscheduled and past ones run at once, a future one waits', async () => {
  const runAt = inMs(3_600_000);
  const r = (await gql(t.url, SUBMIT_MANY, {
    inputs: [
      { type: 'demo.sleep', payload: { ms: 1 } },
      { type: 'demo.sleep', payload: { ms: 1 }, runAt },
      { type: 'demo.sleep', payload: { ms: 1 }, runAt: new Date(Date.now() - 60_000).toISOString() },
    ],
  })).body.data.submitJobs;
  expect(r.userErrors).toEqual([]);
  const [now, later, past] = r.jobs as { id: string; runAt: string | null }[];
  expect([now!.runAt, later!.runAt, past!.runAt]).toEqual([null, runAt, null]);
  await until(now!.id, (j) => j.state === 'SUCCEEDED');
  await until(past!.id, (j) => j.state === 'SUCCEEDED');
  expect(await job(later!.id)).toMatchObject({ state: 'QUEUED', startedAt: null, runAt });
  expect(await entriesOf(later!.id)).toEqual([{ published: false, seq: null }]);

  const stats = (await gql(t.url, '{ queueStats { type queued scheduled oldestQueuedAgeSeconds } }')).body.data.queueStats;
  expect(stats.find((s: { type: string }) => s.type === 'demo.sleep')).toEqual({ type: 'demo.sleep', queued: 1, scheduled: 1, oldestQueuedAgeSeconds: null });
});

it('a retryJob of a FAILED scheduled job runs it at once', async () => {
  const runAt = inMs(1500);
  const input = { type: 'demo.flaky', payload: { permanent: true }, maxAttempts: 1, runAt };
  const id = (await gql(t.url, SUBMIT, { input })).body.data.submitJob.job.id as string;
  const failed = await until(id, (j) => j.state === 'FAILED');
  expect(Date.parse(failed.startedAt)).toBeGreaterThanOrEqual(Date.parse(runAt));

  // Its old runAt moved ahead (as if it were still to come): the replay does not wait for it.
  await env.sql`update jobs set run_at = now() + interval '1 hour' where id = ${id}`;
  const retried = await gql(t.url, `mutation($id: ID!) { retryJob(id: $id) { job { state } userErrors { code } } }`, { id });
  expect(retried.body.data.retryJob).toEqual({ job: { state: 'QUEUED' }, userErrors: [] });
  const again = await until(id, (j) => j.state === 'FAILED' && j.events.filter((e: { state: string }) => e.state === 'RUNNING').length === 2);
  expect(again.attempts).toBe(1);
}, 60_000);
