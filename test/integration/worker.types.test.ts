/**
 * Each job type has its own pull loop and slots: a busy type never stalls another, even when both use
 * every slot they have.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ config: { WORKER_CONCURRENCY: '1' } });
});
afterAll(async () => {
  await t?.dispose();
});

it('runs every job of two types that each keep their single slot busy', async () => {
  const submit = async (type: string, payload: unknown) =>
    (await gql(t.url, SUBMIT, { input: { type, payload } })).body.data.submitJob.job.id as string;
  const ids = await Promise.all(
    Array.from({ length: 8 }, (_, i) => (i % 2 ? submit('demo.noop', {}) : submit('demo.sleep', { ms: 30, steps: 1 }))),
  );
  const done = await Promise.all(ids.map((id) => waitForJob(t.url, id, (j) => j.state === 'SUCCEEDED', 30_000)));
  expect(done.map((j) => j.state)).toEqual(ids.map(() => 'SUCCEEDED'));
});
