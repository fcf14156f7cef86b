/**
 * A handler's attempt ends when it returns or throws; something it started and did not await (a
 * `Promise.all` branch still running after another rejected, an event listener) may still call
 * `ctx.progress`. Those reports belong to an attempt that is over: they are neither published nor recorded.
 * (They used to be published with the seqs that follow the attempt's last one: the outcome's update, which
 * takes the next seq, reached watchers as a repeat and was dropped, so a dashboard never saw the job's
 * RETRYING or SUCCEEDED, only RUNNING.)
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineHandler, type JobContext } from '../../workers/handler.js';
import type { JobUpdate } from '../../sdk/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { sdkFor } from '../support/sdk.js';
import { eventually } from '../support/streams.js';

/** Reports progress every few ms until stopped, without being awaited by the handler. */
const strays = new Map<string, { calls: number; stop: boolean }>();
function reportInBackground(ctx: JobContext): void {
  const s = { calls: 0, stop: false };
  strays.set(ctx.jobId, s);
  const tick = () => {
    if (s.stop) return;
    s.calls++;
    ctx.progress(50, `background ${s.calls}`);
    setTimeout(tick, 5);
  };
  tick();
}

const leaky = defineJobType({
  name: 'test.leaky',
  description: 'leaves a progress reporter running, then throws or returns',
  payload: z.object({ end: z.enum(['throw', 'return']) }),
  maxAttempts: 2,
  backoff: { baseMs: 60_000, maxMs: 60_000 }, // stays RETRYING for the test
});
const handler = defineHandler(leaky, async ({ end }, ctx) => {
  reportInBackground(ctx);
  await new Promise((r) => setTimeout(r, 30));
  if (end === 'throw') throw new Error('one branch failed');
  return { done: true };
});

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, leaky], handlers: [handler] });
});
afterAll(async () => {
  for (const s of strays.values()) s.stop = true;
  await t?.dispose();
});

/**
 * The live updates of one test.leaky job (`jobUpdates`, as a dashboard sees them), from its submit until
 * its attempt ended (`end`, read from the job) and the stray reporter made 20 more calls after that, then a
 * marker: a demo.noop job's CANCELLED update (cancelJob; not its QUEUED), published after those calls on the same NATS connection (the
 * app's workers share it), so every stray update published before it has arrived by then.
 */
async function updatesThroughStrays(end: 'RETRYING' | 'SUCCEEDED'): Promise<JobUpdate[]> {
  const sdk = sdkFor(t);
  const seen: JobUpdate[] = [];
  const watch = sdk.jobUpdates({ types: ['test.leaky', 'demo.noop'] });
  const reading = (async () => {
    for await (const u of watch) seen.push(u);
  })().catch(() => {}); // ended by close()
  try {
    await eventually(() => t.app.hub.listenerCount > 0, 'the subscription listens');
    const { job } = await sdk.submitJob({ type: 'test.leaky', payload: { end: end === 'RETRYING' ? 'throw' : 'return' } });
    await eventually(async () => (await sdk.job(job!.id))?.state === end, `the job is ${end}`);
    const s = strays.get(job!.id)!;
    const from = s.calls;
    await eventually(() => s.calls >= from + 20, 'the stray reporter made 20 more calls');
    s.stop = true;
    const marker = (await sdk.submitJob({ type: 'demo.noop', payload: {} })).job!.id; // no worker runs it
    await sdk.cancelJob(marker);
    await eventually(() => seen.some((u) => u.jobId === marker && u.state === 'CANCELLED'), 'the marker arrived');
    return seen.filter((u) => u.jobId === job!.id);
  } finally {
    await sdk.close();
    await reading;
  }
}

it('progress reported after the handler threw is dropped: the job is not RUNNING again after RETRYING', async () => {
  const seen = await updatesThroughStrays('RETRYING');
  const states = seen.map((u) => u.state);
  expect(states.slice(0, 2)).toEqual(['QUEUED', 'RUNNING']); // the submit's, then the claim's
  expect(states).toContain('RETRYING');
  expect(states.slice(states.indexOf('RETRYING'))).toEqual(['RETRYING']);
  // Nor recorded after the attempt's end.
  const sdk = sdkFor(t);
  const job = await sdk.job(seen[0]!.jobId);
  await sdk.close();
  const retryingSeq = seen.find((u) => u.state === 'RETRYING')!.seq;
  expect(job!.events.filter((e) => e.seq > retryingSeq)).toEqual([]);
});

it('progress reported after the handler returned is dropped: nothing after SUCCEEDED', async () => {
  const states = (await updatesThroughStrays('SUCCEEDED')).map((u) => u.state);
  expect(states).toContain('SUCCEEDED');
  expect(states.slice(states.indexOf('SUCCEEDED'))).toEqual(['SUCCEEDED']);
});
