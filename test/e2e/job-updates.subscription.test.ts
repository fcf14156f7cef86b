/**
 * `jobUpdates(filter)`: live updates of many jobs, filtered on NATS subjects (types × states, or ids), only
 * the viewer's jobs, each update once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobUpdate, LongrunClient } from '../../sdk/index.js';
import { names } from '../../src/messaging/names.js';
import { openJobUpdates, updatePatterns } from '../../src/progress/job-updates.js';
import { publishUpdate } from '../../src/progress/updates.js';
import { startTestApp, workerSwitch, type TestApp, type WorkerSwitch } from '../support/app.js';
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

  it('refuses an unknown type with BAD_USER_INPUT', async () => {
    await expect(sdk.jobUpdates({ types: ['demo.sleep', 'nope.*'] }).next()).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it("sends only the viewer's jobs, and each update once", async () => {
    const deps = { sql: t.app.deps.sql, hub: t.app.hub, names: t.app.deps.names, knownTypes: new Set(t.app.deps.types.keys()) };
    // A real job (owner "anonymous") whose updates carry no owner, as an older publisher sends them.
    const job = (await sdk.submitJob({ type: 'demo.sleep', payload: { ms: 60_000, steps: 1 } })).job!;
    await sdk.cancelJob(job.id);
    const forAnonymous = openJobUpdates(deps, { types: ['demo.hash'] }, 'anonymous');
    const forBob = openJobUpdates(deps, { types: ['demo.hash'] }, 'bob');
    const first = forAnonymous.next();
    const firstForBob = forBob.next();
    await new Promise((r) => setTimeout(r, 100));
    const base = { type: 'demo.hash', state: 'RUNNING' as const, progress: 1, message: null, attempt: 1, at: new Date().toISOString() };
    const nc = t.app.deps.nats.nc;
    const n = t.app.deps.names;
    publishUpdate(nc, n, { ...base, jobId: '6f1c2d3e-0000-4000-8000-000000000002', owner: 'carol', seq: 5 });
    publishUpdate(nc, n, { ...base, jobId: job.id, seq: 7 }); // no owner: looked up (anonymous)
    publishUpdate(nc, n, { ...base, jobId: job.id, seq: 7 }); // duplicate
    publishUpdate(nc, n, { ...base, jobId: '6f1c2d3e-0000-4000-8000-000000000003', owner: 'bob', seq: 2 });
    publishUpdate(nc, n, { ...base, jobId: job.id, seq: 8, owner: 'anonymous' });
    expect((await first).value).toMatchObject({ jobId: job.id, seq: 7 });
    const second = (await forAnonymous.next()).value;
    expect(second).toMatchObject({ jobId: job.id, seq: 8 });
    expect(second).not.toHaveProperty('owner');
    expect((await firstForBob).value).toMatchObject({ jobId: '6f1c2d3e-0000-4000-8000-000000000003', seq: 2 });
    await forAnonymous.return(undefined);
    await forBob.return(undefined);
  });
});
