/**
 * `jobUpdates(filter)`: live updates of many jobs, filtered on NATS subjects (types × states, or ids), only
 * the viewer's jobs (two owners' keys and the admin's), each update once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobUpdate, JobUpdatesFilter, LongrunClient } from '../../sdk/index.js';
import { getJob } from '../../src/db/jobs.js';
import { names } from '../../src/messaging/names.js';
import { updatePatterns } from '../../src/progress/job-updates.js';
import { publishUpdate, updateFromJob } from '../../src/progress/updates.js';
import { startTestApp, workerSwitch, type TestApp, type WorkerSwitch } from '../support/app.js';
import { bearer, gql, SUBMIT } from '../support/graphql.js';
import { sdkFor } from '../support/sdk.js';

let t: TestApp;
let sdk: LongrunClient;
/** Stopped while a test holds a job QUEUED until its watcher is attached. */
let workers: WorkerSwitch;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
  sdk = sdkFor(t);
  workers = workerSwitch(t);
  await workers.start();
});
afterAll(async () => {
  await workers?.stop();
  await sdk?.close();
  await t?.dispose();
});

/** Collects a subscription's updates until `until` says stop. */
async function collectUntil(it: AsyncIterableIterator<JobUpdate>, until: (seen: JobUpdate[]) => boolean): Promise<JobUpdate[]> {
  const seen: JobUpdate[] = [];
  for await (const u of it) {
    seen.push(u);
    if (until(seen)) break;
  }
  return seen;
}

/** Waits until the server holds `n` more NATS subscriptions than `base` (the subscription is live, or gone). */
async function subscribed(base: number, n: number) {
  for (let i = 0; i < 200 && t.app.hub.subscriptionCount !== base + n; i++) await new Promise((r) => setTimeout(r, 20));
  expect(t.app.hub.subscriptionCount).toBe(base + n);
}

describe('jobUpdates', () => {
  it('maps filters to NATS subject patterns', () => {
    const n = names('p_');
    expect(updatePatterns(n, {})).toEqual(['p_job.*.*.*']);
    expect(updatePatterns(n, { types: ['demo.sleep', 'demo.flaky'], states: ['SUCCEEDED'] })).toEqual([
      'p_job.demo:sleep.SUCCEEDED.*',
      'p_job.demo:flaky.SUCCEEDED.*',
    ]);
    expect(updatePatterns(n, { states: ['FAILED', 'FAILED'] })).toEqual(['p_job.*.FAILED.*']);
    const id = '6f1c2d3e-0000-4000-8000-000000000001';
    expect(updatePatterns(n, { ids: [id, 'not-a-uuid'], types: ['demo.sleep'] })).toEqual([`p_job.*.*.${id}`]);
  });

  it('follows every job of a type, and only that type, with one NATS subscription per pattern', async () => {
    const base = t.app.hub.subscriptionCount;
    const watching = collectUntil(sdk.jobUpdates({ types: ['demo.sleep'] }), (seen) => seen.filter((u) => u.state === 'SUCCEEDED').length === 2);
    await subscribed(base, 1);
    const a = (await sdk.submitJob({ type: 'demo.sleep', payload: { ms: 300, steps: 3 } })).job!;
    await sdk.submitJob({ type: 'demo.flaky', payload: { failures: 0 } });
    const b = (await sdk.submitJob({ type: 'demo.sleep', payload: { ms: 300, steps: 3 } })).job!;
    const seen = await watching;
    expect(seen.every((u) => u.type === 'demo.sleep')).toBe(true);
    expect(new Set(seen.map((u) => u.jobId))).toEqual(new Set([a.id, b.id]));
    for (const id of [a.id, b.id]) {
      const mine = seen.filter((u) => u.jobId === id);
      expect(mine.map((u) => u.seq)).toEqual([...new Set(mine.map((u) => u.seq))].sort((x, y) => x - y));
      expect(mine.filter((u) => u.state === 'RUNNING' && u.progress > 0).length).toBeGreaterThanOrEqual(3);
      expect(mine.at(-1)).toMatchObject({ state: 'SUCCEEDED', result: { slept: 300, steps: 3 } });
    }
    await subscribed(base, 0); // the pattern is released when the client stops
  });

  it('filters by state and by id', async () => {
    const base = t.app.hub.subscriptionCount;
    const done = collectUntil(sdk.jobUpdates({ states: ['SUCCEEDED', 'FAILED'] }), (seen) => seen.length === 2);
    await subscribed(base, 2);
    const ok = (await sdk.submitJob({ type: 'demo.sleep', payload: { ms: 100, steps: 2 } })).job!;
    const bad = (await sdk.submitJob({ type: 'demo.flaky', payload: { permanent: true } })).job!;
    const byState = await done;
    expect(byState.map((u) => [u.jobId, u.state]).sort()).toEqual([[ok.id, 'SUCCEEDED'], [bad.id, 'FAILED']].sort());

    await subscribed(base, 0); // the state patterns are released

    // Both wait QUEUED until the subscription is live.
    await workers.stop();
    const other = (await sdk.submitJob({ type: 'demo.sleep', payload: { ms: 400, steps: 2 } })).job!;
    const target = (await sdk.submitJob({ type: 'demo.sleep', payload: { ms: 400, steps: 2 } })).job!;
    const watching = collectUntil(sdk.jobUpdates({ ids: [target.id], states: ['RUNNING', 'SUCCEEDED'] }), (seen) => seen.at(-1)?.state === 'SUCCEEDED');
    await subscribed(base, 1);
    await workers.start();
    const byId = await watching;
    expect(byId.every((u) => u.jobId === target.id && ['RUNNING', 'SUCCEEDED'].includes(u.state))).toBe(true);
    expect(byId.map((u) => u.jobId)).not.toContain(other.id);
  });

  it('sends each new job QUEUED once it is submitted (alone or in a batch); an idempotent repeat sends nothing', async () => {
    await workers.stop(); // they stay QUEUED
    try {
      await subscribed(0, 0); // the test before's subscriptions are gone
      const base = 0;
      const watching = collectUntil(sdk.jobUpdates({ types: ['demo.noop'], states: ['QUEUED'] }), (seen) => seen.length === 3);
      await subscribed(base, 1);
      const one = (await sdk.submitJob({ type: 'demo.noop', payload: {}, idempotencyKey: 'queued-live' })).job!;
      expect((await sdk.submitJob({ type: 'demo.noop', payload: {}, idempotencyKey: 'queued-live' })).job!.id).toBe(one.id);
      const batch = await Promise.all([sdk.submitJob({ type: 'demo.noop', payload: {} }), sdk.submitJob({ type: 'demo.noop', payload: {} })]);
      const jobs = [one, ...batch.map((r) => r.job!)];
      const seen = await watching;
      expect(seen.map((u) => u.jobId).sort()).toEqual(jobs.map((j) => j.id).sort());
      for (const j of jobs) {
        expect(seen.find((u) => u.jobId === j.id)).toMatchObject({ state: 'QUEUED', seq: 1, type: 'demo.noop', at: j.createdAt });
      }
    } finally {
      await workers.start();
    }
  });

  it("sends each job of a big batch (published in slices after the answer) QUEUED first, before its worker's updates", async () => {
    await subscribed(0, 0);
    const n = 300; // several of the relay's slices (PUBLISH_SLICE), past what goes out before the answer
    // Until every job of the batch has SUCCEEDED: the jobs seen QUEUED here are the ones submitted after the
    // subscription (this batch's), and once the answer is in, its ids say which they are.
    let ids: string[] = [];
    const watching = collectUntil(sdk.jobUpdates({ types: ['demo.noop'] }), (seen) => {
      const queued = new Set(seen.filter((u) => u.state === 'QUEUED').map((u) => u.jobId));
      const succeeded = new Set(seen.filter((u) => u.state === 'SUCCEEDED').map((u) => u.jobId));
      return (queued.size === n && [...queued].every((id) => succeeded.has(id))) || (ids.length > 0 && ids.every((id) => succeeded.has(id)));
    });
    await subscribed(0, 1);
    // The workers run: each job can be claimed as soon as its message is out.
    const r = await sdk.submitJobs(Array.from({ length: n }, (_, i) => ({ type: 'demo.noop', payload: { i } })));
    ids = r.jobs!.map((j) => j.id);
    const seen = await watching;
    expect(new Set(seen.filter((u) => u.state === 'QUEUED').map((u) => u.jobId))).toEqual(new Set(ids));
    for (const id of ids) {
      expect(seen.filter((u) => u.jobId === id).map((u) => [u.seq, u.state])).toEqual([
        [1, 'QUEUED'],
        [2, 'RUNNING'],
        [3, 'SUCCEEDED'],
      ]);
    }
  });

  it('refuses an unknown type with BAD_USER_INPUT', async () => {
    await expect(sdk.jobUpdates({ types: ['demo.sleep', 'nope.*'] }).next()).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it("sends each owner only its own jobs' updates (the admin everyone's), each update once, over graphql-ws", async () => {
    const keys = { alice: (await t.createKey('alice')).key, bob: (await t.createKey('bob')).key };
    const clients = { alice: sdkFor(t, { token: keys.alice }), bob: sdkFor(t, { token: keys.bob }) };
    /** Submits over HTTP with an owner's key. */
    const submit = async (key: string) => {
      const r = await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 200, steps: 2 } } }, { authorization: bearer(key) });
      expect(r.body.data.submitJob.userErrors).toEqual([]);
      return r.body.data.submitJob.job.id as string;
    };
    const succeeded = (seen: JobUpdate[], id: string | undefined) => seen.some((u) => u.jobId === id && u.state === 'SUCCEEDED');
    /** Each owner's last job: once it has succeeded, every earlier update has been delivered to that owner. */
    const last: { alice?: string; bob?: string } = {};
    const filter = { types: ['demo.sleep'], states: ['RUNNING', 'SUCCEEDED'] } satisfies JobUpdatesFilter;
    const patterns = updatePatterns(t.app.deps.names, filter).length;
    try {
      // The first jobs wait QUEUED until all three subscriptions are live.
      await workers.stop();
      const listeners = t.app.hub.listenerCount;
      const firsts: { alice?: string; bob?: string } = {};
      const forAdmin = collectUntil(sdk.jobUpdates(filter), (seen) => succeeded(seen, firsts.alice) && succeeded(seen, firsts.bob));
      const forAlice = collectUntil(clients.alice.jobUpdates(filter), (seen) => succeeded(seen, last.alice));
      const forBob = collectUntil(clients.bob.jobUpdates(filter), (seen) => succeeded(seen, last.bob));
      for (let i = 0; i < 200 && t.app.hub.listenerCount !== listeners + 3 * patterns; i++) await new Promise((r) => setTimeout(r, 20));
      expect(t.app.hub.listenerCount).toBe(listeners + 3 * patterns);
      firsts.alice = await submit(keys.alice);
      firsts.bob = await submit(keys.bob);
      await workers.start();
      const admin = await forAdmin;
      expect(new Set(admin.map((u) => u.jobId))).toEqual(new Set([firsts.alice, firsts.bob]));

      // The terminal update again, as a worker re-publishes it when a finished job's message is redelivered,
      // and once more without an owner (an older publisher): the subscriber reads the owner itself.
      const done = updateFromJob((await getJob(t.env.sql, firsts.alice))!);
      const { owner: _owner, ...withoutOwner } = done;
      publishUpdate(t.app.deps.nats.nc, t.app.deps.names, done);
      publishUpdate(t.app.deps.nats.nc, t.app.deps.names, withoutOwner);

      last.alice = await submit(keys.alice);
      last.bob = await submit(keys.bob);
      const seen = { alice: await forAlice, bob: await forBob };
      expect(new Set(seen.alice.map((u) => u.jobId))).toEqual(new Set([firsts.alice, last.alice]));
      expect(new Set(seen.bob.map((u) => u.jobId))).toEqual(new Set([firsts.bob, last.bob]));
      for (const updates of [admin, seen.alice, seen.bob]) {
        for (const id of new Set(updates.map((u) => u.jobId))) {
          const seqs = updates.filter((u) => u.jobId === id).map((u) => u.seq);
          expect(seqs).toEqual([...new Set(seqs)].sort((x, y) => x - y)); // each once, in order
          expect(updates.filter((u) => u.jobId === id && u.state === 'SUCCEEDED')).toHaveLength(1);
        }
      }
    } finally {
      await workers.start();
      await Promise.all([clients.alice.close(), clients.bob.close()]);
    }
  });
});
