/**
 * The dead-letter component decides on a job as it read it, and the job may move on before its write.
 *
 * The dead-letter sweep runs in every API process, so two can take the same abandoned job (its worker died
 * on the last attempt). The first dead-letters it (FAILED), an operator replays it with `retryJob` at once
 * (QUEUED, a new attempt series), and only then does the second finish its own pass over the job as it read
 * it. That stale pass must not fail the replayed job: it stays QUEUED and runs, never FAILED without running
 * with the old series' "worker lost" error.
 *
 * A MAX_DELIVERIES advisory handled while the job's worker (cut off from NATS, so JetStream gave up on the
 * message) ends its attempt with a retry: the advisory reads the job RUNNING, finds the lease just over and no
 * worker holding the attempt (it has let it go), and fails it. The retry keeps the attempt's number, so the
 * failure, fenced by attempt alone, ended the retried job FAILED ("deliveries exhausted") with attempts left
 * (seen once in four CI runs of dead-letters.advisory-held-attempt). It now applies only to the job still in the
 * state it was read in, and answers that it did not, so the advisory looks again at the job as it is.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { markRetrying, markRunning } from '../../src/db/transitions.js';
import type { JobRow } from '../../src/db/schema.js';
import { deadLetterJob } from '../../src/messaging/dead-letters.js';
import { gql, SUBMIT } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

const jobOf = async (id: string) =>
  (await gql(t.url, `query($id: ID!) { job(id: $id) { state attempts error } deadLetters(first: 10) { totalCount } }`, { id })).body.data;

it('a second sweep over a job the first dead-lettered and an operator replayed leaves the replay QUEUED', async () => {
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {}, maxAttempts: 1 } })).body.data.submitJob.job.id as string;
  // Its worker claimed the last attempt and died: the lease has run out. Both sweeps read this row.
  const abandoned = (await markRunning(t.app.deps.sql, { id, series: 1, leaseMs: 1, msgSeq: 0 })) as JobRow;
  expect(abandoned).toMatchObject({ state: 'RUNNING', attempts: 1, maxAttempts: 1 });

  await deadLetterJob(t.app.deps, abandoned, null, 'worker lost during the last attempt'); // the first sweep
  expect(await jobOf(id)).toEqual({ job: { state: 'FAILED', attempts: 1, error: 'worker lost during the last attempt' }, deadLetters: { totalCount: 1 } });
  const retried = (await gql(t.url, `mutation($id: ID!) { retryJob(id: $id) { job { state } userErrors { code } } }`, { id })).body.data.retryJob;
  expect(retried).toEqual({ job: { state: 'QUEUED' }, userErrors: [] });

  await deadLetterJob(t.app.deps, abandoned, null, 'worker lost during the last attempt'); // the second, late
  expect(await jobOf(id)).toEqual({ job: { state: 'QUEUED', attempts: 0, error: null }, deadLetters: { totalCount: 0 } });
});

it('a job its worker retried after the dead-letter component read it RUNNING stays RETRYING, not dead-lettered', async () => {
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {}, maxAttempts: 3 } })).body.data.submitJob.job.id as string;
  const { sql } = t.app.deps;
  const token = randomUUID();
  const read = (await markRunning(sql, { id, series: 1, leaseMs: 1, msgSeq: 0, token }))!;
  expect(read).toMatchObject({ state: 'RUNNING', attempts: 1 });
  // Its worker's handler asks for a retry, after the read.
  await markRetrying(sql, { id, attempt: 1, series: 1, token, lastSeq: read.seq, error: 'asked to retry', delayMs: 0 });

  expect(await deadLetterJob(t.app.deps, read, null, 'deliveries exhausted after 3 deliveries')).toBe(false);
  expect(await jobOf(id)).toEqual({ job: { state: 'RETRYING', attempts: 1, error: 'asked to retry' }, deadLetters: { totalCount: 0 } });
});
