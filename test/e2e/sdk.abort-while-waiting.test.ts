/**
 * Aborting a watch's signal ends it at once, also while it waits for an update that may never come (a queued
 * job, a quiet filter): the pending `next()` resolves done and the server drops the subscription. It used to
 * wait for the next update before it noticed, holding the subscription (and the server's listener) open.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LongrunClient } from '../../sdk/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { sdkFor } from '../support/sdk.js';

// No workers: a submitted job stays QUEUED, so nothing more comes after its snapshot.
let t: TestApp;
let sdk: LongrunClient;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
  sdk = sdkFor(t);
});
afterAll(async () => {
  await sdk?.close();
  await t?.dispose();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function listeners(n: number): Promise<void> {
  for (let i = 0; i < 250 && t.app.hub.listenerCount !== n; i++) await sleep(20);
  expect(t.app.hub.listenerCount).toBe(n);
}
/** Within 2 s, or 'still waiting'. */
const settledSoon = <T>(p: Promise<T>) => Promise.race([p, sleep(2000).then(() => 'still waiting' as const)]);

it('watchJob: an abort while it waits for the next update ends it at once and drops the subscription', async () => {
  const base = t.app.hub.listenerCount;
  const job = (await sdk.submitJob({ type: 'demo.sleep', payload: { ms: 10 } })).job!;
  const abort = new AbortController();
  const updates = sdk.watchJob(job.id, { signal: abort.signal });
  expect((await updates.next()).value).toMatchObject({ state: 'QUEUED' }); // the snapshot
  const waiting = updates.next();
  await listeners(base + 1);
  abort.abort();
  expect(await settledSoon(waiting)).toEqual({ done: true, value: undefined });
  await listeners(base);
});

it('jobUpdates: an abort while it waits for an update of a quiet filter ends it at once and drops the subscription', async () => {
  const base = t.app.hub.listenerCount;
  const abort = new AbortController();
  const updates = sdk.jobUpdates({ types: ['demo.hash'] }, { signal: abort.signal });
  const waiting = updates.next();
  await listeners(base + 1);
  abort.abort();
  expect(await settledSoon(waiting)).toEqual({ done: true, value: undefined });
  await listeners(base);
});
