/**
 * queueStats' oldestQueuedAgeSeconds counts from when a job was last queued, not from its submit: a dead
 * letter of last week replayed with retryJob has been queued for seconds, not a week.
 */
import { expect, it } from 'vitest';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { useAppWithWorkerSwitch } from '../support/app.js';
import { eventually } from '../support/streams.js';

const app = useAppWithWorkerSwitch();

const STATS = `{ queueStats { type queued oldestQueuedAgeSeconds } }`;
const RETRY = `mutation R($id: ID!) { retryJob(id: $id) { job { state } userErrors { code } } }`;
const DEAD_LETTERED = `query { deadLetters(first: 10) { edges { node { id } } } }`;

it('a dead letter of a week ago, replayed, has been queued for seconds', async () => {
  await app.workers.start();
  const submitted = await gql(app.t.url, SUBMIT, { input: { type: 'demo.flaky', payload: { failures: 1, permanent: true }, maxAttempts: 1 } });
  const id = submitted.body.data.submitJob.job.id as string;
  await waitForJob(app.t.url, id, (j) => j.state === 'FAILED');
  await app.workers.stop(); // the replayed job stays QUEUED
  const listed = async () => (await gql(app.t.url, DEAD_LETTERED)).body.data.deadLetters.edges.some((e: { node: { id: string } }) => e.node.id === id);
  await eventually(listed, 'the job is listed as a dead letter');
  // Last week's: every time of the job a week earlier.
  const week = `interval '7 days'`;
  await app.t.env.sql.unsafe(
    `update jobs set created_at = created_at - ${week}, updated_at = updated_at - ${week}, started_at = started_at - ${week},
       finished_at = finished_at - ${week}, dead_lettered_at = dead_lettered_at - ${week} where id = $1`,
    [id],
  );

  expect((await gql(app.t.url, RETRY, { id })).body.data.retryJob).toEqual({ job: { state: 'QUEUED' }, userErrors: [] });
  const stats = (await gql(app.t.url, STATS)).body.data.queueStats.find((s: { type: string }) => s.type === 'demo.flaky');
  expect(stats.queued).toBe(1);
  expect(stats.oldestQueuedAgeSeconds).toBeGreaterThanOrEqual(0);
  expect(stats.oldestQueuedAgeSeconds).toBeLessThan(3600); // a week: 604,800
});
