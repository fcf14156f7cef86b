/**
 * The dead-letter sweep runs in every API process, so two can take the same abandoned job (its worker died
 * on the last attempt). The first dead-letters it (FAILED), an operator replays it with `retryJob` at once
 * (QUEUED, a new attempt series), and only then does the second finish its own pass over the job as it read
 * it. That stale pass must not fail the replayed job: it stays QUEUED and runs, never FAILED without running
 * with the old series' "worker lost" error.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { markRunning } from '../../src/db/transitions.js';
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
