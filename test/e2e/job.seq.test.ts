/**
 * `Job.seq`: the seq of the job's latest recorded change, so a client that reads jobs (say after a gap in its
 * `jobUpdates`) knows which later updates are newer than what it read. It is the seq of the newest history
 * row at every step (QUEUED, progress milestones, SUCCEEDED), in `job`, in the `jobs` list and in the SDK.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LongrunClient } from '../../sdk/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { sdkFor } from '../support/sdk.js';

let t: TestApp;
let sdk: LongrunClient;
beforeAll(async () => {
  t = await startTestApp({ config: { PROGRESS_DB_INTERVAL_MS: '50' } });
  sdk = sdkFor(t);
});
afterAll(async () => {
  await sdk?.close();
  await t?.dispose();
});

const SEQ_AND_NEWEST = `query($id: ID!) { job(id: $id) { state seq events(last: 50) { seq } } }`;

it('is the seq of the newest history row while the job runs and once it is done, in job, jobs and the SDK', async () => {
  const r = await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 600, steps: 6 } } });
  const id = r.body.data.submitJob.job.id as string;
  const seen = new Set<number>();
  let done = false;
  while (!done) {
    const { job } = (await gql(t.url, SEQ_AND_NEWEST, { id })).body.data;
    // The history is read just after the row: a milestone may land in between, never the other way.
    const history = job.events.map((e: { seq: number }) => e.seq);
    expect(history).toContain(job.seq);
    expect(Math.max(...history)).toBeGreaterThanOrEqual(job.seq);
    seen.add(job.seq);
    done = job.state === 'SUCCEEDED';
    if (!done) await new Promise((res) => setTimeout(res, 40));
  }
  expect(Math.min(...seen)).toBeGreaterThanOrEqual(1);
  expect(seen.size).toBeGreaterThan(2); // it moved with the recorded changes, not only at the ends

  const final = await waitForJob(t.url, id, (j) => j.state === 'SUCCEEDED');
  const newest = Math.max(...final.events.map((e: { seq: number }) => e.seq));
  const listed = (await gql(t.url, `{ jobs(first: 5) { edges { node { id seq } } } }`)).body.data.jobs.edges.map((e: { node: { id: string; seq: number } }) => e.node);
  expect(listed.find((n: { id: string }) => n.id === id)).toEqual({ id, seq: newest });
  expect((await sdk.job(id))?.seq).toBe(newest);
});
