/**
 * queueStats and the outbox backlog with scheduled jobs (`runAt`): a job whose runAt is ahead counts in
 * `queued` and `scheduled`, not in `oldestQueuedAgeSeconds` nor in the outbox backlog; once due, its wait for a
 * worker counts from its runAt, not from its submit. No workers: due jobs stay QUEUED.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/streams.js';
import { outboxBacklog } from '../../src/db/outbox.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

const SUBMIT = `mutation($input: SubmitJobInput!) { submitJob(input: $input) { job { id } userErrors { code } } }`;
const submit = async (type: string, runAt: string) =>
  (await gql(t.url, SUBMIT, { input: { type, payload: {}, runAt } })).body.data.submitJob.job.id as string;
interface Stats {
  type: string;
  queued: number;
  scheduled: number;
  oldestQueuedAgeSeconds: number | null;
}
const statsOf = async (type: string) =>
  ((await gql(t.url, '{ queueStats { type queued scheduled oldestQueuedAgeSeconds } }')).body.data.queueStats as Stats[]).find((s) => s.type === type);

it('counts a job scheduled ahead as queued and scheduled, not as waiting, nor as outbox backlog', async () => {
  await submit('demo.noop', new Date(Date.now() + 3_600_000).toISOString());
  expect(await statsOf('demo.noop')).toEqual({ type: 'demo.noop', queued: 1, scheduled: 1, oldestQueuedAgeSeconds: null });
  expect(await outboxBacklog(t.app.deps.sql)).toEqual({ count: 0, oldestAgeMs: 0 });
});

it('counts a due job’s wait from its runAt, not from its submit', async () => {
  const runAt = new Date(Date.now() + 1500).toISOString();
  const id = await submit('demo.flaky', runAt);
  // Submitted an hour ago: its wait for a worker still begins at its runAt.
  await t.env.sql`update jobs set created_at = created_at - interval '1 hour', updated_at = updated_at - interval '1 hour' where id = ${id}`;
  expect(await statsOf('demo.flaky')).toMatchObject({ queued: 1, scheduled: 1, oldestQueuedAgeSeconds: null });
  await eventually(async () => (await t.env.sql`select 1 from outbox where job_id = ${id} and published_at is not null`).length > 0, 'published when due');
  const stats = (await statsOf('demo.flaky'))!;
  expect(stats).toMatchObject({ queued: 1, scheduled: 0 });
  expect(stats.oldestQueuedAgeSeconds).toBeGreaterThanOrEqual(0);
  expect(stats.oldestQueuedAgeSeconds).toBeLessThan(600); // from its submit it would be over 3,600
});
