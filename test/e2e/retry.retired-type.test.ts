/**
 * `retryJob` of a FAILED job whose type this server no longer has (removed or renamed since the job ran):
 * refused with UNKNOWN_JOB_TYPE, as a submit of that type is, and the job stays FAILED. Replayed, it would
 * wait QUEUED for ever on a subject no worker pulls. `retryJobs` leaves it FAILED too: by id it is skipped
 * with that code, a filter never takes it, and naming its type is refused.
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

it('retryJobs leaves it FAILED too: skipped by id, never taken by a filter, its type refused by name', async () => {
  const { sql, names } = t.app.deps;
  const legacy = newJob({ owner: 'test', type: 'reports.legacy', maxAttempts: 1, subject: names.jobSubject('reports.legacy') });
  const current = newJob({ owner: 'test', type: 'demo.noop', maxAttempts: 1, subject: names.jobSubject('demo.noop') });
  await insertJobs(sql, [legacy, current]);
  for (const job of [legacy, current]) await markFailed(sql, { id: job.id, error: 'boom', attemptFailed: false });

  const RETRY_JOBS = 'mutation R($input: RetryJobsInput!) { retryJobs(input: $input) { retried hasMore jobs { id } skipped { id code message } userErrors { code field } } }';
  const byIds = (await gql(t.url, RETRY_JOBS, { input: { ids: [legacy.id] } })).body.data.retryJobs;
  expect(byIds).toMatchObject({ retried: 0, jobs: [], userErrors: [] });
  expect(byIds.skipped).toEqual([{ id: legacy.id, code: 'UNKNOWN_JOB_TYPE', message: 'a reports.legacy job cannot be retried: this server has no job type "reports.legacy"' }]);

  // A filter takes the jobs of the types this server has, one call, and nothing is left matching.
  const all = (await gql(t.url, RETRY_JOBS, { input: { limit: 1 } })).body.data.retryJobs;
  expect(all).toMatchObject({ retried: 1, hasMore: false, jobs: [{ id: current.id }], userErrors: [] });
  const named = (await gql(t.url, RETRY_JOBS, { input: { types: ['reports.legacy'] } })).body.data.retryJobs;
  expect(named).toMatchObject({ retried: 0, userErrors: [{ code: 'UNKNOWN_JOB_TYPE', field: ['input', 'types', '0'] }] });
  const [row] = await t.env.sql<{ state: string }[]>`select state from jobs where id = ${legacy.id}`;
  expect(row!.state).toBe('FAILED');
});
