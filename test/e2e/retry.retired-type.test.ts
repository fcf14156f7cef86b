/**
 * `retryJob` of a FAILED job whose type this server no longer has (removed or renamed since the job ran):
 * refused with UNKNOWN_JOB_TYPE, as a submit of that type is, and the job stays FAILED. Replayed, it would
 * wait QUEUED for ever on a subject no worker pulls.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { insertJobs } from '../../src/db/jobs.js';
import { markFailed } from '../../src/db/transitions.js';
import { gql } from '../support/graphql.js';
import { newJob, startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

it('refuses to replay a job of a type the server does not have, and leaves it FAILED', async () => {
  const { sql, names } = t.app.deps;
  // A job of an earlier deployment's type, failed for good.
  const job = newJob({ owner: 'test', type: 'reports.legacy', maxAttempts: 1, subject: names.jobSubject('reports.legacy') });
  await insertJobs(sql, [job]);
  expect(await markFailed(sql, { id: job.id, error: 'boom', attemptFailed: false })).toMatchObject({ state: 'FAILED' });

  const r = await gql(t.url, 'mutation R($id: ID!) { retryJob(id: $id) { job { state } userErrors { code field message } } }', { id: job.id });
  expect(r.body.data.retryJob).toEqual({
    job: { state: 'FAILED' },
    userErrors: [{ code: 'UNKNOWN_JOB_TYPE', field: ['id'], message: 'a reports.legacy job cannot be retried: this server has no job type "reports.legacy"' }],
  });
  const [row] = await t.env.sql<{ state: string }[]>`select state from jobs where id = ${job.id}`;
  expect(row!.state).toBe('FAILED');
});
