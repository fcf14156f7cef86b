/**
 * Workers claim and complete jobs, renew leases and record progress in batches (one statement per batch,
 * db/transitions.ts and db/attempts.ts): each job of a batch is judged on its own, exactly as if it had been
 * written alone.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql, JOB, SUBMIT } from '../support/graphql.js';
import { countRows, startTestApp, type TestApp } from '../support/app.js';
import { markCancelled } from '../../src/db/cancel.js';
import {
  fenceAsRead,
  markDeadLettered,
  markFailed,
  markQueuedAgain,
  markRetrying,
  markRunning,
  markRunningMany,
  markSucceeded,
  markSucceededMany,
} from '../../src/db/transitions.js';
import { recordProgressMany, renewLeases } from '../../src/db/attempts.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null }); // jobs stay QUEUED: this test plays the worker
});
afterAll(async () => {
  await t?.dispose();
});

const submit = async () =>
  (await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } })).body.data.submitJob.job.id as string;
const job = async (id: string) => (await gql(t.url, JOB, { id })).body.data.job;
const runningEvents = (id: string) => countRows(t.env.sql, 'job_events', `job_id = '${id}' and state = 'RUNNING'`);

it('claims each job of a batch once: a job named twice, an older series or a finished job get null', async () => {
  const [a, b, c] = [await submit(), await submit(), await submit()];
  const sql = t.app.deps.sql;
  const [done] = await markRunningMany(sql, [{ id: c, series: 1, leaseMs: 60_000, msgSeq: 1 }]);
  await markSucceededMany(sql, [{ id: c, attempt: 1, series: 1, lastSeq: done!.seq, result: 'first', progressMessage: null }]);

  const claimed = await markRunningMany(sql, [
    { id: a, series: 1, leaseMs: 60_000, msgSeq: 10 },
    { id: a, series: 1, leaseMs: 60_000, msgSeq: 11 }, // the same job's message delivered twice
    { id: b, series: 2, leaseMs: 60_000, msgSeq: 12 }, // a message from another attempt series
    { id: c, series: 1, leaseMs: 60_000, msgSeq: 13 }, // a finished job
  ]);
  // One of a's two rows holds the claim (which one is PostgreSQL's choice); b and c are refused.
  expect(claimed.slice(0, 2).filter((j) => j !== null)).toEqual([expect.objectContaining({ id: a, state: 'RUNNING', attempts: 1 })]);
  expect(claimed.slice(2)).toEqual([null, null]);
  expect(await runningEvents(a)).toBe(1);
  expect(await job(b)).toMatchObject({ state: 'QUEUED', attempts: 0 });
  expect(await job(c)).toMatchObject({ state: 'SUCCEEDED', result: 'first' });
});

it('completes only the jobs whose fence holds; each gets its own result', async () => {
  const ids = [await submit(), await submit(), await submit()];
  const sql = t.app.deps.sql;
  const running = await markRunningMany(sql, ids.map((id, i) => ({ id, series: 1, leaseMs: 60_000, msgSeq: 100 + i })));
  expect(running.map((j) => j?.state)).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);

  const done = await markSucceededMany(sql, [
    { id: ids[0]!, attempt: 1, series: 1, lastSeq: running[0]!.seq, result: { n: 0 }, progressMessage: 'zero' },
    { id: ids[1]!, attempt: 2, series: 1, lastSeq: running[1]!.seq, result: { n: 1 }, progressMessage: null }, // a stale attempt
    { id: ids[2]!, attempt: 1, series: 1, lastSeq: running[2]!.seq, result: null, progressMessage: null },
  ]);
  expect(done.map((j) => j?.state ?? null)).toEqual(['SUCCEEDED', null, 'SUCCEEDED']);
  expect(await job(ids[0]!)).toMatchObject({ state: 'SUCCEEDED', result: { n: 0 }, progress: 100, progressMessage: 'zero' });
  expect(await job(ids[1]!)).toMatchObject({ state: 'RUNNING', attempts: 1, result: null });
  expect(await job(ids[2]!)).toMatchObject({ state: 'SUCCEEDED', result: null });
  // One history row per change, at the seq after the holder's last one.
  const seqs = await t.env.sql<{ seq: number }[]>`select seq from job_events where job_id = ${ids[0]!} and state = 'SUCCEEDED'`;
  expect(seqs.map((r) => r.seq)).toEqual([running[0]!.seq + 1]);
});

it('renews the leases of a tick in one statement, each answered on its own: lost fence, cancel requested, held', async () => {
  const ids = [await submit(), await submit(), await submit()];
  const sql = t.app.deps.sql;
  await markRunningMany(sql, ids.map((id, i) => ({ id, series: 1, leaseMs: 1_000, msgSeq: 200 + i })));
  const cancel = /* GraphQL */ `mutation C($id: ID!) { cancelJob(id: $id) { job { id state } } }`;
  expect((await gql(t.url, cancel, { id: ids[1]! })).body.data.cancelJob.job.state).toBe('RUNNING'); // asked, not yet done
  const leaseOf = async (id: string) =>
    (await t.env.sql<{ ms: number }[]>`select (extract(epoch from lease_until - now()) * 1000)::float8 as ms from jobs where id = ${id}`)[0]!.ms;

  // Not in id order, and the first one's attempt is stale: answers come back in the order asked.
  const answers = await renewLeases(sql, [{ id: ids[2]!, attempt: 1, series: 1 }, { id: ids[0]!, attempt: 2, series: 1 }, { id: ids[1]!, attempt: 1, series: 1 }], 600_000);
  expect(answers).toEqual([{ cancelRequested: false }, null, { cancelRequested: true }]);
  expect(await leaseOf(ids[2]!)).toBeGreaterThan(60_000);
  expect(await leaseOf(ids[0]!)).toBeLessThan(1_000); // a stale holder renews nothing
  expect(await renewLeases(sql, [], 600_000)).toEqual([]);
});

it('records the progress milestones that fall due together in one statement, each fenced and answered on its own', async () => {
  const ids = [await submit(), await submit(), await submit()];
  const sql = t.app.deps.sql;
  const running = await markRunningMany(sql, ids.map((id, i) => ({ id, series: 1, leaseMs: 60_000, msgSeq: 300 + i })));
  expect((await gql(t.url, `mutation C($id: ID!) { cancelJob(id: $id) { job { id } } }`, { id: ids[2]! })).body.data.cancelJob.job.id).toBe(ids[2]);
  const at = (i: number) => running[i]!.seq + 5;
  const answers = await recordProgressMany(sql, [
    { id: ids[1]!, attempt: 1, series: 1, seq: at(1), progress: 40, message: 'it\'s "quoted", \\ and, commas', leaseMs: 60_000 },
    { id: ids[0]!, attempt: 2, series: 1, seq: at(0), progress: 99, message: 'a stale attempt', leaseMs: 60_000 },
    { id: ids[0]!, attempt: 1, series: 1, seq: at(0), progress: 25.5, message: null, leaseMs: 60_000 },
    { id: ids[2]!, attempt: 1, series: 1, seq: at(2), progress: 10, message: 'x', leaseMs: 60_000 },
  ]);
  expect(answers).toEqual([
    { cancelRequested: false, seqReserved: at(1) + 1000 },
    null,
    { cancelRequested: false, seqReserved: at(0) + 1000 },
    { cancelRequested: true, seqReserved: at(2) + 1000 },
  ]);
  expect(await job(ids[0]!)).toMatchObject({ state: 'RUNNING', progress: 25.5, progressMessage: null });
  expect(await job(ids[1]!)).toMatchObject({ state: 'RUNNING', progress: 40, progressMessage: 'it\'s "quoted", \\ and, commas' });
  // Each milestone is a history row at the seq its holder gave it.
  const rows = await t.env.sql<{ jobId: string; seq: number; progress: number }[]>`
    select job_id as "jobId", seq, progress from job_events where kind = 'progress' and job_id = any(${ids}) order by progress`;
  expect(rows).toEqual([
    { jobId: ids[2], seq: at(2), progress: 10 },
    { jobId: ids[0], seq: at(0), progress: 25.5 },
    { jobId: ids[1], seq: at(1), progress: 40 },
  ]);
  expect(await recordProgressMany(sql, [])).toEqual([]);
});

it('refuses every write of a stalled worker once the job was replayed and claimed again, though the attempt number is the same', async () => {
  const id = await submit();
  const sql = t.app.deps.sql;
  // A worker claims attempt 1, stalls (cut off from PostgreSQL); the job fails meanwhile, an operator replays
  // it (retryJob: a new attempt series, attempts from 0) and another worker claims it: attempt 1 again.
  const stale = (await markRunning(sql, { id, series: 1, leaseMs: 60_000, msgSeq: 400 }))!;
  expect(await markFailed(sql, { id, error: 'worker lost', attemptFailed: false })).toMatchObject({ state: 'FAILED' });
  const retried = await gql(t.url, `mutation R($id: ID!) { retryJob(id: $id) { job { state } userErrors { code } } }`, { id });
  expect(retried.body.data.retryJob).toEqual({ job: { state: 'QUEUED' }, userErrors: [] });
  const current = (await markRunning(sql, { id, series: 2, leaseMs: 60_000, msgSeq: 401 }))!;
  expect(current).toMatchObject({ attempts: stale.attempts, series: 2 });

  const old = { id, attempt: stale.attempts, series: stale.series, lastSeq: stale.seq };
  expect(await markSucceeded(sql, { ...old, result: 'from the stalled attempt', progressMessage: null })).toBeNull();
  expect(await markRetrying(sql, { ...old, error: 'late', delayMs: 0 })).toBeNull();
  expect(await markFailed(sql, { ...old, error: 'late', attemptFailed: true })).toBeNull();
  expect(await markQueuedAgain(sql, old, 'shutdown')).toBeNull();
  expect(await markCancelled(sql, old)).toBeNull();
  expect(await renewLeases(sql, [old], 600_000)).toEqual([null]);
  expect(await recordProgressMany(sql, [{ ...old, seq: stale.seq + 1, progress: 50, message: 'late', leaseMs: 600_000 }])).toEqual([null]);
  expect(await job(id)).toMatchObject({ state: 'RUNNING', attempts: 1, progress: 0, progressMessage: null, result: null, error: null });

  // The current attempt's own writes hold.
  const now = { id, attempt: current.attempts, series: current.series, lastSeq: current.seq };
  expect(await renewLeases(sql, [now], 600_000)).toEqual([{ cancelRequested: false }]);
  expect(await markSucceeded(sql, { ...now, result: 'from the replay', progressMessage: null })).toMatchObject({ state: 'SUCCEEDED' });
  expect(await job(id)).toMatchObject({ state: 'SUCCEEDED', result: 'from the replay' });
});

it('a worker’s cancel of its attempt applies only while that attempt runs: a retrying job nobody cancelled stays RETRYING', async () => {
  // The worker's RETRYING write committed but its answer was lost; settle's fallback for a refused retry is the
  // attempt's cancel, which must not turn a job waiting for its next attempt into CANCELLED.
  const id = await submit();
  const sql = t.app.deps.sql;
  const claimed = await markRunning(sql, { id, series: 1, leaseMs: 60_000, msgSeq: 1 });
  const retrying = await markRetrying(sql, { id, attempt: 1, series: 1, lastSeq: claimed!.seq, error: 'boom', delayMs: 60_000 });
  expect(retrying?.state).toBe('RETRYING');
  expect(await markCancelled(sql, { id, attempt: 1, series: 1, lastSeq: retrying!.seq })).toBeNull();
  expect((await job(id)).state).toBe('RETRYING');
});

it('a worker’s hand-back applies only while its attempt runs: a job failed meanwhile stays FAILED', async () => {
  // The dead-letter sweep failed the attempt (fenced as it read it) while its worker, stopping, handed it back.
  const id = await submit();
  const sql = t.app.deps.sql;
  const claimed = await markRunning(sql, { id, series: 1, leaseMs: 60_000, msgSeq: 1 });
  const failed = await markFailed(sql, { id, attempt: 1, series: 1, error: 'worker lost during the last attempt', attemptFailed: false });
  expect(failed?.state).toBe('FAILED');
  expect(await markQueuedAgain(sql, { id, attempt: 1, series: 1, lastSeq: claimed!.seq }, 'shutdown')).toBeNull();
  expect(await job(id)).toMatchObject({ state: 'FAILED', error: 'worker lost during the last attempt' });
});

it('a job handed back and claimed again under the same attempt number: the first claim’s writes are refused', async () => {
  // A hand-back gives the attempt back (attempts - 1), so the next claim is attempt 1 again. The first worker's
  // hand-back committed with its answer lost, and it retries it (then, refused, its cancel-instead); a late
  // lease renewal or progress write of it comes too. None may pass for the new claim's.
  const id = await submit();
  const sql = t.app.deps.sql;
  const token = randomUUID();
  const first = (await markRunning(sql, { id, series: 1, leaseMs: 60_000, msgSeq: 1, token }))!;
  const mine = { id, attempt: first.attempts, series: first.series, token, lastSeq: first.seq };
  expect(await markQueuedAgain(sql, { ...mine, token: randomUUID() }, 'shutdown')).toBeNull(); // another claim's
  expect(await markQueuedAgain(sql, mine, 'shutdown')).toMatchObject({ state: 'QUEUED', attempts: 0 });
  const second = (await markRunning(sql, { id, series: 1, leaseMs: 60_000, msgSeq: 1, token: randomUUID() }))!;
  expect(second).toMatchObject({ state: 'RUNNING', attempts: first.attempts });

  expect(await markQueuedAgain(sql, mine, 'shutdown')).toBeNull();
  expect(await markCancelled(sql, mine)).toBeNull();
  expect(await markRetrying(sql, { ...mine, error: 'late', delayMs: 0 })).toBeNull();
  expect(await markSucceeded(sql, { ...mine, result: 'late', progressMessage: null })).toBeNull();
  expect(await renewLeases(sql, [mine], 600_000)).toEqual([null]);
  expect(await recordProgressMany(sql, [{ ...mine, seq: second.seq + 1, progress: 50, message: 'late', leaseMs: 600_000 }])).toEqual([null]);
  expect(await job(id)).toMatchObject({ state: 'RUNNING', attempts: 1, progress: 0, progressMessage: null });
});

it('the dead-letter component’s failure, fenced as it read the job, is refused once another claim holds it under the same attempt number', async () => {
  // The sweep read the job with its lease run out; meanwhile its worker handed it back and another claimed it.
  const id = await submit();
  const sql = t.app.deps.sql;
  const token = randomUUID();
  const read = (await markRunning(sql, { id, series: 1, leaseMs: 1, msgSeq: 1, token }))!;
  expect(await markQueuedAgain(sql, { id, attempt: read.attempts, series: read.series, token, lastSeq: read.seq }, 'shutdown')).not.toBeNull();
  expect(await markRunning(sql, { id, series: 1, leaseMs: 60_000, msgSeq: 1, token: randomUUID() })).toMatchObject({ attempts: read.attempts });
  const asRead = fenceAsRead(read);
  expect(await markDeadLettered(sql, { id, ...asRead, error: 'worker lost', attemptFailed: true, deadLetterSeq: 7 })).toBeNull();
  expect(await markCancelled(sql, { id, ...asRead })).toBeNull();
  expect(await job(id)).toMatchObject({ state: 'RUNNING', attempts: 1, error: null });
});

it('the dead-letter component’s failure and cancel, fenced as it read the RUNNING job, are refused once its worker wrote a retry under that attempt number', async () => {
  // An advisory read the job RUNNING, its lease just out; meanwhile the worker's handler asked for a retry
  // (RETRYING keeps the attempt's number) and let the attempt go, so no worker says it holds it.
  const id = await submit();
  const sql = t.app.deps.sql;
  const token = randomUUID();
  const read = (await markRunning(sql, { id, series: 1, leaseMs: 1, msgSeq: 1, token }))!;
  expect(await markRetrying(sql, { id, attempt: read.attempts, series: read.series, token, lastSeq: read.seq, error: 'asked to retry', delayMs: 0 })).toMatchObject({ state: 'RETRYING', attempts: 1 });
  const asRead = fenceAsRead(read);
  expect(await markDeadLettered(sql, { id, ...asRead, error: 'deliveries exhausted after 3 deliveries', attemptFailed: true, deadLetterSeq: 7 })).toBeNull();
  expect(await markCancelled(sql, { id, ...asRead })).toBeNull();
  expect(await job(id)).toMatchObject({ state: 'RETRYING', attempts: 1, error: 'asked to retry' });
  // Read as it is now, the failure applies.
  expect(await markDeadLettered(sql, { id, ...fenceAsRead({ ...read, state: 'RETRYING' }), error: 'deliveries exhausted after 3 deliveries', attemptFailed: false, deadLetterSeq: 7 })).toMatchObject({ state: 'FAILED' });
});
