/**
 * A live-only `jobUpdates` subscriber (no `since`: its inbox drops the oldest past its bound, it cannot
 * re-read) that keeps up gets every update of a burst bigger than that bound: two concurrent 1,000-job
 * `submitJobs` calls' QUEUED updates, 2,000 within milliseconds; and 2,000 submissions that reach the API in
 * one read from NATS (two messages of 1,000, as two API processes publishing at once send them).
 */
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { publishUpdates } from '../../src/progress/updates.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, wsClient } from '../support/graphql.js';

let t: TestApp;
let client: Client;
beforeAll(async () => {
  t = await startTestApp({ handlers: null }); // no workers: QUEUED only
  client = wsClient(t.url.replace(/^http/, 'ws'));
});
afterAll(async () => {
  await client?.dispose();
  await t?.dispose();
});

const SUBMIT_MANY = `mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id } userErrors { code message } } }`;

const SUBSCRIBE = `subscription { jobUpdates(filter: { states: [QUEUED] }) { jobId state } }`;

/** A live-only subscription's job ids until it has `n` of them; resolves once it listens. */
async function listening(n: number): Promise<{ ids: Promise<Set<string>> }> {
  const seen = new Set<string>();
  const listeners = async (n: number) => {
    for (let i = 0; i < 200 && t.app.hub.listenerCount !== n; i++) await new Promise((r) => setTimeout(r, 20));
    expect(t.app.hub.listenerCount).toBe(n);
  };
  await listeners(0); // the test before's subscription is gone
  const reading = (async () => {
    for await (const r of client.iterate<{ jobUpdates: { jobId: string; state: string } }>({ query: SUBSCRIBE })) {
      expect(r.errors).toBeUndefined();
      seen.add(r.data!.jobUpdates.jobId);
      if (seen.size === n) break;
    }
  })();
  await listeners(1);
  await t.app.hub.subscribed([t.app.deps.names.updatesPattern(null, 'QUEUED')]);
  return { ids: Promise.race([reading, new Promise((r) => setTimeout(r, 10_000))]).then(() => seen) };
}

it('sends a live-only subscriber every QUEUED update of two concurrent 1,000-job batches', async () => {
  const { ids } = await listening(2000);
  const batch = (k: number) => Array.from({ length: 1000 }, (_, i) => ({ type: 'demo.noop', payload: { k, i } }));
  const answers = await Promise.all([gql(t.url, SUBMIT_MANY, { inputs: batch(1) }), gql(t.url, SUBMIT_MANY, { inputs: batch(2) })]);
  const submitted = answers.flatMap((a) => {
    expect(a.body.data.submitJobs.userErrors).toEqual([]);
    return a.body.data.submitJobs.jobs.map((j: { id: string }) => j.id as string);
  });
  expect(await ids).toEqual(new Set(submitted));
});

it('sends a live-only subscriber every update of 2,000 submissions that come in one read from NATS', async () => {
  const { ids } = await listening(2000);
  const at = new Date().toISOString();
  const jobIds = Array.from({ length: 2000 }, (_, i) => `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`);
  const { nc } = t.app.deps.nats;
  publishUpdates(
    nc,
    t.app.deps.names,
    jobIds.map((jobId) => ({ jobId, type: 'demo.noop', owner: 'test', seq: 1, state: 'QUEUED', progress: 0, message: null, attempt: 0, at })),
  );
  await nc.flush();
  expect(await ids).toEqual(new Set(jobIds));
});
