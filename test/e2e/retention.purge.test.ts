/**
 * Built-in retention (src/jobs/retention.ts): finished jobs older than JOB_RETENTION_DAYS (SUCCEEDED,
 * CANCELLED; 30 by default) or FAILED_JOB_RETENTION_DAYS (FAILED; 90) are deleted with their history,
 * notification deliveries, outbox entries and dead-letter copy; nothing else is. Jobs are made old by
 * backdating `finished_at`. The app's own timer is set to a day so each test runs the pass it asserts on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markRetrying, markRunning } from '../../src/db/transitions.js';
import { countRows, startTestApp, workerSwitch, type TestApp, type WorkerSwitch } from '../support/app.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { eventually } from '../support/streams.js';

let t: TestApp;
let workers: WorkerSwitch;
beforeAll(async () => {
  t = await startTestApp({
    handlers: null,
    config: {
      RETENTION_INTERVAL_MS: '86400000',
      WEBHOOK_SECRET: 'retention-secret-0123456789',
      WEBHOOK_ALLOW_PRIVATE: '1',
      NOTIFIER_CONCURRENCY: '0', // deliveries stay PENDING until a test marks them sent
    },
  });
  workers = workerSwitch(t);
});
afterAll(async () => {
  await workers?.stop();
  await t?.dispose();
});

const submit = async (type: string, payload: object, extra: object = {}) => {
  const r = (await gql(t.url, SUBMIT, { input: { type, payload, ...extra } })).body.data.submitJob;
  expect(r.userErrors).toEqual([]);
  return r.job.id as string;
};
const jobOf = async (id: string) =>
  (await gql(t.url, `query($id: ID!) { job(id: $id) { id state notifications { id } events { seq } } }`, { id })).body.data.job;
const deadLetterIds = async () =>
  (await gql(t.url, `{ deadLetters(first: 100) { edges { node { id } } } }`)).body.data.deadLetters.edges.map((e: any) => e.node.id);
const deadLettersInStream = async (type: string) =>
  (await gql(t.url, `{ queueStats { type deadLetters } }`)).body.data.queueStats.find((s: any) => s.type === type).deadLetters as number;
const copySeq = async (id: string) =>
  (await t.env.sql<{ s: number }[]>`select dead_letter_seq::float8 as s from jobs where id = ${id}`)[0]!.s;
const copyInStream = async (seq: number) => {
  const { nats, names } = t.app.deps;
  return (await nats.jsm.streams.getMessage(names.deadLetterStream, { seq })) !== null;
};
/** Makes a finished job look `days` old. */
const finishedDaysAgo = (id: string, days: number) =>
  t.env.sql`update jobs set finished_at = now() - ${days}::int * interval '1 day', created_at = now() - ${days + 1}::int * interval '1 day' where id = ${id}`;
/** Runs jobs to their end with the workers, then stops them; FAILED ones until they are dead letters. */
async function runToEnd(ids: { ok?: string[]; failed?: string[] }) {
  await workers.start();
  for (const id of ids.ok ?? []) await waitForJob(t.url, id, (j) => j.state === 'SUCCEEDED');
  for (const id of ids.failed ?? []) await waitForJob(t.url, id, (j) => j.state === 'FAILED');
  await eventually(async () => {
    const listed: string[] = await deadLetterIds();
    return (ids.failed ?? []).every((id) => listed.includes(id));
  }, 'dead letters recorded');
  await workers.stop();
}
const owned = async (ids: string[]) => ({
  events: await countRows(t.env.sql, 'job_events', `job_id in (${ids.map((i) => `'${i}'`).join(',')})`),
  outbox: await countRows(t.env.sql, 'outbox', `job_id in (${ids.map((i) => `'${i}'`).join(',')})`),
  deliveries: await countRows(t.env.sql, 'notification_deliveries', `job_id in (${ids.map((i) => `'${i}'`).join(',')})`),
  subscriptions: await countRows(t.env.sql, 'job_notifications', `job_id in (${ids.map((i) => `'${i}'`).join(',')})`),
});
const purgedMetric = async (type: string, state: string) => {
  const text = await (await fetch(new URL('/metrics', t.url))).text();
  const line = text.split('\n').find((l) => l.startsWith(`longrun_jobs_purged_total{type="${type}",state="${state}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

describe('retention', () => {
  it('deletes expired finished jobs with everything they own, and keeps unfinished and recent ones', async () => {
    const notify = { notify: [{ webhook: 'http://127.0.0.1:9/hook', on: ['SUCCEEDED'] }] };
    const doneOld = await submit('demo.noop', {}, notify);
    const doneNew = await submit('demo.noop', {});
    const failedOld = await submit('demo.flaky', { permanent: true });
    const failedMid = await submit('demo.flaky', { permanent: true });
    const cancelledOld = await submit('demo.sleep', { ms: 60_000 });
    await gql(t.url, `mutation($id: ID!) { cancelJob(id: $id) { userErrors { code } } }`, { id: cancelledOld });
    await runToEnd({ ok: [doneOld, doneNew], failed: [failedOld, failedMid] });

    // Unfinished jobs, however old: QUEUED, RUNNING (a live lease) and RETRYING.
    const queued = await submit('demo.noop', {});
    const running = await submit('demo.noop', {});
    const retrying = await submit('demo.noop', {});
    expect(await markRunning(t.app.deps.sql, { id: running, series: 1, leaseMs: 3_600_000, msgSeq: 1 })).not.toBeNull();
    const r = await markRunning(t.app.deps.sql, { id: retrying, series: 1, leaseMs: 3_600_000, msgSeq: 2 });
    expect(await markRetrying(t.app.deps.sql, { id: retrying, attempt: r!.attempts, series: r!.series, lastSeq: r!.seq, error: 'later', delayMs: 3_600_000 })).not.toBeNull();
    await t.env.sql`update jobs set created_at = now() - interval '400 days' where id in ${t.env.sql([queued, running, retrying])}`;

    await finishedDaysAgo(doneOld, 31); // past 30 days: deleted
    await finishedDaysAgo(cancelledOld, 31);
    await finishedDaysAgo(failedOld, 91); // past 90 days: deleted
    await finishedDaysAgo(failedMid, 40); // a FAILED job is kept 90 days
    const seq = await copySeq(failedOld);
    expect(await copyInStream(seq)).toBe(true);
    expect((await jobOf(doneOld)).notifications).toHaveLength(1);
    expect(await deadLettersInStream('demo.flaky')).toBe(2);
    const before = await owned([doneOld, cancelledOld, failedOld]);
    expect(before.events).toBeGreaterThan(0);
    expect(before.outbox).toBeGreaterThan(0);
    expect(before.deliveries).toBe(1);
    const purgedBefore = await purgedMetric('demo.flaky', 'failed');
    // Its delivery is done with (a job whose notification is still to be sent is kept: see below).
    await t.env.sql`update notification_deliveries set status = 'SENT', finished_at = now() where job_id = ${doneOld}`;

    expect(await t.app.retention.runOnce()).toMatchObject({ purged: 3, deadLetterCopiesRemoved: 1 });

    for (const id of [doneOld, cancelledOld, failedOld]) expect(await jobOf(id)).toBeNull();
    expect(await owned([doneOld, cancelledOld, failedOld])).toEqual({ events: 0, outbox: 0, deliveries: 0, subscriptions: 0 });
    expect(await copyInStream(seq)).toBe(false);
    expect(await deadLettersInStream('demo.flaky')).toBe(1);
    expect(await deadLetterIds()).toEqual([failedMid]);
    const kept = { doneNew: 'SUCCEEDED', failedMid: 'FAILED', queued: 'QUEUED', running: 'RUNNING', retrying: 'RETRYING' };
    const ids = { doneNew, failedMid, queued, running, retrying };
    for (const [name, state] of Object.entries(kept)) expect((await jobOf(ids[name as keyof typeof ids]))?.state, name).toBe(state);
    expect(await purgedMetric('demo.flaky', 'failed')).toBe(purgedBefore + 1);
    expect(await purgedMetric('demo.noop', 'succeeded')).toBeGreaterThanOrEqual(1);

    // A second pass finds nothing more.
    expect(await t.app.retention.runOnce()).toMatchObject({ purged: 0 });
  });

  it('keeps a FAILED job replayed with retryJob, and skips one a replay holds locked until it is released', async () => {
    const replayed = await submit('demo.flaky', { permanent: true });
    const held = await submit('demo.flaky', { permanent: true });
    await runToEnd({ failed: [replayed, held] });
    await finishedDaysAgo(replayed, 100);
    await finishedDaysAgo(held, 100);

    const retry = (await gql(t.url, `mutation($id: ID!) { retryJob(id: $id) { job { state } userErrors { code } } }`, { id: replayed })).body.data.retryJob;
    expect(retry).toEqual({ job: { state: 'QUEUED' }, userErrors: [] });

    // A replay (or another API process's purge) holding the row: the pass leaves it alone.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const tx = t.env.sql.begin(async (sql) => {
      await sql`select id from jobs where id = ${held} for update`;
      locked();
      await released;
    });
    await isLocked;
    expect(await t.app.retention.runOnce()).toMatchObject({ purged: 0, hasMore: true });
    // purgeJobs answers that more may match (the held row is still expired): the caller is to call again.
    const PURGE = `mutation($input: PurgeJobsInput!) { purgeJobs(input: $input) { purged hasMore userErrors { code } } }`;
    const purgeFailed = async () => (await gql(t.url, PURGE, { input: { olderThanSeconds: 99 * 86_400, states: ['FAILED'] } })).body.data.purgeJobs;
    expect(await purgeFailed()).toEqual({ purged: 0, hasMore: true, userErrors: [] });
    release();
    await tx;
    expect((await jobOf(held)).state).toBe('FAILED');
    expect((await jobOf(replayed)).state).toBe('QUEUED');

    expect(await t.app.retention.runOnce()).toMatchObject({ purged: 1, deadLetterCopiesRemoved: 1, hasMore: false });
    expect(await jobOf(held)).toBeNull();
    expect(await purgeFailed()).toEqual({ purged: 0, hasMore: false, userErrors: [] });
    expect((await jobOf(replayed)).state).toBe('QUEUED');
  });

  it('keeps a finished job while a notification of it is still to be sent, for retention and purgeJobs alike', async () => {
    // A delivery still PENDING (its receiver slow or down, its retries spread over hours with a high
    // NOTIFY_MAX_ATTEMPTS): deleting the job would delete it unsent, with no trace (no FAILED status, no log).
    const notify = { notify: [{ webhook: 'http://127.0.0.1:9/hook', on: ['SUCCEEDED'] }] };
    const pending = await submit('demo.noop', {}, notify);
    const plain = await submit('demo.noop', {});
    await runToEnd({ ok: [pending, plain] });
    await finishedDaysAgo(pending, 31);
    await finishedDaysAgo(plain, 31);
    expect(await countRows(t.env.sql, 'notification_deliveries', `job_id = '${pending}' and status = 'PENDING'`)).toBe(1);

    const PURGE = `mutation($input: PurgeJobsInput!) { purgeJobs(input: $input) { purged hasMore userErrors { code } } }`;
    const purge = async (dryRun: boolean) =>
      (await gql(t.url, PURGE, { input: { olderThanSeconds: 20 * 86_400, states: ['SUCCEEDED'], dryRun } })).body.data.purgeJobs;
    expect(await purge(true)).toEqual({ purged: 1, hasMore: false, userErrors: [] });
    expect(await t.app.retention.runOnce()).toMatchObject({ purged: 1 });
    expect(await jobOf(plain)).toBeNull();
    expect(await purge(false)).toEqual({ purged: 0, hasMore: false, userErrors: [] });
    expect((await jobOf(pending)).notifications).toHaveLength(1);

    // Sent (or given up on): nothing more to send, so the job goes.
    await t.env.sql`update notification_deliveries set status = 'SENT', finished_at = now() where job_id = ${pending}`;
    expect(await t.app.retention.runOnce()).toMatchObject({ purged: 1 });
    expect(await jobOf(pending)).toBeNull();
  });

  it('deletes a job whose copy is gone already (a pass that stopped between the copy and the row)', async () => {
    const id = await submit('demo.flaky', { permanent: true });
    await runToEnd({ failed: [id] });
    await finishedDaysAgo(id, 100);
    const seq = await copySeq(id);
    await t.app.deps.nats.jsm.streams.deleteMessage(t.app.deps.names.deadLetterStream, seq);

    expect(await t.app.retention.runOnce()).toMatchObject({ purged: 1 });
    expect(await jobOf(id)).toBeNull();
  });

  it('deletes nothing with retention 0; with retention on, another API process purges on its own timer', async () => {
    const id = await submit('demo.noop', {});
    await runToEnd({ ok: [id] });
    await finishedDaysAgo(id, 10_000);

    const keepAll = await startTestApp({ env: t.env, handlers: null, config: { JOB_RETENTION_DAYS: '0', FAILED_JOB_RETENTION_DAYS: '0', RETENTION_INTERVAL_MS: '100' } });
    try {
      expect(await keepAll.app.retention.runOnce()).toMatchObject({ purged: 0 });
      expect((await jobOf(id)).state).toBe('SUCCEEDED');
    } finally {
      await keepAll.dispose();
    }

    const other = await startTestApp({ env: t.env, handlers: null, config: { RETENTION_INTERVAL_MS: '200' } });
    try {
      await eventually(async () => (await jobOf(id)) === null, 'the other process purged the job');
    } finally {
      await other.dispose();
    }
  });
});
