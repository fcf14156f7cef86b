/**
 * A `submitJobs` batch's QUEUED updates go over NATS as one message per job type (updates.ts
 * `publishUpdates`), not one per job; every `jobUpdates` subscriber by type or state still gets each job
 * QUEUED, field for field as the replay of the history has it, and a watch of one of the jobs (`watchJob`,
 * whose subject that message does not reach) opens with it QUEUED.
 */
import type { Subscription } from '@nats-io/nats-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JobUpdate, LongrunClient } from '../../sdk/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { sdkFor } from '../support/sdk.js';

let t: TestApp;
let sdk: LongrunClient;
beforeAll(async () => {
  t = await startTestApp({ handlers: null }); // no workers: the jobs stay QUEUED
  sdk = sdkFor(t);
});
afterAll(async () => {
  await sdk?.close();
  await t?.dispose();
});

/** The first `n` updates of a subscription. */
async function take(it: AsyncIterableIterator<JobUpdate>, n: number): Promise<JobUpdate[]> {
  const seen: JobUpdate[] = [];
  for await (const u of it) if (seen.push(u) === n) break;
  return seen;
}

const byJob = (us: JobUpdate[]) => new Map(us.map((u) => [u.jobId, u]));

it("sends a batch's QUEUED updates as one NATS message per type, and each subscriber every job QUEUED as the replay has it", async () => {
  const { nc } = t.app.deps.nats;
  const prefix = t.app.deps.names.prefix;
  const subjects: string[] = [];
  const raw: Subscription = nc.subscribe(`${prefix}job.>`, { callback: (_e, m) => void subjects.push(m.subject) });
  const since = new Date(Date.now() - 1000).toISOString();
  const base = t.app.hub.subscriptionCount;
  const noops = take(sdk.jobUpdates({ types: ['demo.noop'], states: ['QUEUED'] }), 600);
  const all = take(sdk.jobUpdates({ states: ['QUEUED'] }), 1000);
  for (let i = 0; i < 200 && t.app.hub.subscriptionCount < base + 2; i++) await new Promise((r) => setTimeout(r, 20));
  expect(t.app.hub.subscriptionCount).toBe(base + 2);

  const inputs = Array.from({ length: 1000 }, (_, i) => (i % 5 < 3 ? { type: 'demo.noop', payload: { i } } : { type: 'demo.sleep', payload: { ms: 1 } }));
  const r = await sdk.submitJobs(inputs);
  expect(r.userErrors).toEqual([]);
  const jobs = r.jobs!;
  const noopIds = jobs.filter((_, i) => i % 5 < 3).map((j) => j.id);

  const [seenNoops, seenAll] = await Promise.all([noops, all]);
  expect(new Set(seenNoops.map((u) => u.jobId))).toEqual(new Set(noopIds));
  expect(new Set(seenAll.map((u) => u.jobId))).toEqual(new Set(jobs.map((j) => j.id)));
  for (const [i, j] of jobs.entries()) {
    expect(byJob(seenAll).get(j.id)).toEqual({
      jobId: j.id,
      type: inputs[i]!.type,
      seq: 1,
      state: 'QUEUED',
      progress: 0,
      message: null,
      attempt: 0,
      at: j.createdAt,
      result: null,
      error: null,
    });
  }
  // The same updates, read from the history.
  const replayed = await take(sdk.jobUpdates({ states: ['QUEUED'] }, { since }), 1000);
  expect(byJob(replayed)).toEqual(byJob(seenAll));
  for (const u of seenNoops) expect(u).toEqual(byJob(seenAll).get(u.jobId));

  // Over NATS: one message for each type's 600 and 400, on its QUEUED subject.
  await nc.flush();
  raw.unsubscribe();
  expect(subjects.sort()).toEqual([`${prefix}job.demo:noop.QUEUED.submitted`, `${prefix}job.demo:sleep.QUEUED.submitted`]);

  // A watch of one of the jobs by its id opens with it QUEUED (read from PostgreSQL once it listens).
  const [first] = await take(sdk.watchJob(noopIds[7]!), 1);
  expect(first).toMatchObject({ jobId: noopIds[7], seq: 1, state: 'QUEUED' });
});
