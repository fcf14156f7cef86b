/**
 * A job whose worker died during its last attempt, after an earlier attempt had failed: the dead-letter sweep
 * fails it with why (`worker lost during the last attempt`), on the job and as that attempt's error, not
 * with the earlier attempt's error repeated (it is still the job's `error` column until the end).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { markRetrying, markRunning } from '../../src/db/transitions.js';
import type { JobRow } from '../../src/db/schema.js';
import { deadLetterJob } from '../../src/messaging/dead-letters.js';
import { gql, JOB, SUBMIT } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

it('fails the job with the lost worker as its last attempt error, not the attempt before', async () => {
  const { sql } = t.app.deps;
  const submitted = (await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {}, maxAttempts: 2 } })).body.data.submitJob;
  const id = submitted.job.id as string;
  // Attempt 1 fails with an error and is retried; attempt 2's worker dies (its lease runs out at once).
  const first = (await markRunning(sql, { id, series: 1, leaseMs: 60_000, msgSeq: 1 })) as JobRow;
  await markRetrying(sql, { id, attempt: 1, series: 1, lastSeq: first.seq, error: 'boom on attempt 1', delayMs: 0 });
  const second = (await markRunning(sql, { id, series: 1, leaseMs: 1, msgSeq: 2 })) as JobRow;
  expect(second).toMatchObject({ state: 'RUNNING', attempts: 2, error: 'boom on attempt 1' });
  await new Promise((r) => setTimeout(r, 50)); // the dead worker's lease is over

  // What the recorder's sweep does with such a job.
  await deadLetterJob({ ...t.app.deps, sql: t.env.sql as never }, second, null, 'worker lost during the last attempt');

  const job = (await gql(t.url, JOB, { id })).body.data.job;
  expect(job.state).toBe('FAILED');
  expect(job.error).toBe('worker lost during the last attempt');
  expect(job.attemptErrors.map((e: { attempt: number; message: string }) => [e.attempt, e.message])).toEqual([
    [1, 'boom on attempt 1'],
    [2, 'worker lost during the last attempt'],
  ]);
});
