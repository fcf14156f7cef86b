/**
 * `Job.seq`: the seq of the job's latest recorded change, so a client that reads jobs (say after a gap in its
 * `jobUpdates`) knows which later updates are newer than what it read. It is the seq of the newest history
 * row at every step (QUEUED, progress milestones, SUCCEEDED), in `job`, in the `jobs` list and in the SDK; and
 * `Job.events` in the same answer is the history as of that read, ending at that seq, however fast
 * milestones land.
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
    // The history is as of the same read: it ends at the job's seq (a milestone landing between the two
    // statements is not in it).
    const history = job.events.map((e: { seq: number }) => e.seq);
    expect(Math.max(...history)).toBe(job.seq);
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

it('answers a history that ends at the job\'s seq while milestones land every 50 ms', async () => {
  const r = await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 3000, steps: 3000 } } });
  const id = r.body.data.submitJob.job.id as string;
  let reads = 0;
  const ahead: { seq: number; newest: number }[] = [];
  for (let done = false; !done; reads++) {
    const { job } = (await gql(t.url, SEQ_AND_NEWEST, { id })).body.data;
    const newest = Math.max(...job.events.map((e: { seq: number }) => e.seq));
    if (newest !== job.seq) ahead.push({ seq: job.seq, newest });
    done = job.state === 'SUCCEEDED';
  }
  expect(reads).toBeGreaterThan(50);
  expect(ahead).toEqual([]);
});
