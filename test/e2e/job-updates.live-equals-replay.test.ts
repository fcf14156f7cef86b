/**
 * One update per (jobId, seq): the update a subscriber gets live is the one it gets replayed from the history
 * (`jobUpdates(since)`, `jobProgress(after: 0)`) and the one `jobProgress` opens with, field for field: a
 * SUCCEEDED and a CANCELLED that carry the job's last progress message, a RETRYING and a FAILED with their
 * error, the QUEUED of `retryJob` ('replayed') and of `rescheduleJob` ('rescheduled to …'), and a progress
 * milestone of 100 / 3 (published as the `real` column stores it: 33.333332).
 */
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { collect, gql, SUBMIT, waitForJob, wsClient } from '../support/graphql.js';

const FIELDS = 'jobId type seq state progress message attempt at result error';
const UPDATES = `subscription($since: DateTime) { jobUpdates(since: $since) { ${FIELDS} } }`;
const PROGRESS = `subscription($id: ID!, $after: Int) { jobProgress(id: $id, after: $after) { ${FIELDS} } }`;
const CANCEL = `mutation($id: ID!) { cancelJob(id: $id) { job { state } } }`;
const RETRY = `mutation($id: ID!) { retryJob(id: $id) { job { state } userErrors { code } } }`;
const RESCHEDULE = `mutation($id: ID!, $runAt: DateTime) { rescheduleJob(id: $id, runAt: $runAt) { job { state } userErrors { code } } }`;

interface Update {
  jobId: string;
  seq: number;
  state: string;
  progress: number;
  message: string | null;
}

let t: TestApp;
const clients: Client[] = [];
beforeAll(async () => {
  // Milestones recorded 50 ms after a report: each step of the sleeps below gets its history row.
  t = await startTestApp({ config: { PROGRESS_DB_INTERVAL_MS: '50' } });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await t?.dispose();
});

const client = () => {
  const c = wsClient(t.url.replace(/^http/, 'ws'));
  clients.push(c);
  return c;
};

async function submit(input: Record<string, unknown>): Promise<string> {
  const r = await gql(t.url, SUBMIT, { input });
  expect(r.body.data.submitJob.userErrors).toEqual([]);
  return r.body.data.submitJob.job.id;
}

/** Collects a `jobUpdates` subscription's updates until `done(seen)`; `attached` resolves once it listens. */
function updatesUntil(variables: Record<string, unknown>, done: (seen: Update[]) => boolean) {
  const listeners = t.app.hub.listenerCount + 1;
  const seen: Update[] = [];
  const reading = (async () => {
    for await (const r of client().iterate<{ jobUpdates: Update }>({ query: UPDATES, variables })) {
      expect(r.errors).toBeUndefined();
      seen.push(r.data!.jobUpdates);
      if (done(seen)) break;
    }
    return seen;
  })();
  const attached = (async () => {
    for (let i = 0; i < 250 && t.app.hub.listenerCount < listeners; i++) await new Promise((r) => setTimeout(r, 20));
    expect(t.app.hub.listenerCount).toBeGreaterThanOrEqual(listeners);
  })();
  return { reading, attached };
}

const keyOf = (u: Update) => `${u.jobId}:${u.seq}`;
const count = (seen: Update[], id: string, state: string) => seen.filter((u) => u.jobId === id && u.state === state).length;

it('gives each (jobId, seq) the same update live, replayed after since / after, and as jobProgress\'s first', async () => {
  const since = new Date().toISOString();
  const ids = { done: '', cancelled: '', failing: '', scheduled: '' };
  const allDone = (seen: Update[]) =>
    count(seen, ids.done, 'SUCCEEDED') === 1 &&
    count(seen, ids.cancelled, 'CANCELLED') === 1 &&
    count(seen, ids.failing, 'FAILED') === 2 &&
    count(seen, ids.scheduled, 'CANCELLED') === 1;
  const live = updatesUntil({}, allDone);
  await live.attached;

  ids.done = await submit({ type: 'demo.sleep', payload: { ms: 900, steps: 3 } });
  ids.cancelled = await submit({ type: 'demo.sleep', payload: { ms: 6000, steps: 3 } });
  ids.failing = await submit({ type: 'demo.flaky', payload: { failures: 10 }, maxAttempts: 2 });
  ids.scheduled = await submit({ type: 'demo.sleep', payload: { ms: 10, steps: 1 }, runAt: new Date(Date.now() + 3_600_000).toISOString() });

  // A running job with progress recorded (step 1/3, after 2 s), cancelled.
  await waitForJob(t.url, ids.cancelled, (j) => j.state === 'RUNNING' && j.progress > 0);
  expect((await gql(t.url, CANCEL, { id: ids.cancelled })).body.errors).toBeUndefined();
  // A job failed twice (RETRYING, FAILED), replayed (QUEUED 'replayed'), failing twice again.
  await waitForJob(t.url, ids.failing, (j) => j.state === 'FAILED');
  expect((await gql(t.url, RETRY, { id: ids.failing })).body.data.retryJob.userErrors).toEqual([]);
  // A scheduled job moved (QUEUED 'rescheduled to …'), then cancelled.
  const later = new Date(Date.now() + 7_200_000).toISOString();
  expect((await gql(t.url, RESCHEDULE, { id: ids.scheduled, runAt: later })).body.data.rescheduleJob.userErrors).toEqual([]);
  const [opened] = (await firstOf(ids.scheduled)).values;
  expect((await gql(t.url, CANCEL, { id: ids.scheduled })).body.errors).toBeUndefined();

  const liveSeen = await live.reading;
  const replayed = await updatesUntil({ since }, allDone).reading;
  const fromStart = (await Promise.all(Object.values(ids).map((id) => collect<Update>(client(), PROGRESS, { id, after: 0 })))).flatMap((r) => {
    expect(r.errors).toEqual([]);
    return r.values;
  });
  const snapshots = (await Promise.all([ids.done, ids.cancelled, ids.failing].map(firstOf))).flatMap((r) => r.values);

  const recorded = new Map(replayed.map((u) => [keyOf(u), u]));
  expect(new Map(fromStart.map((u) => [keyOf(u), u]))).toEqual(recorded);
  const both = liveSeen.filter((u) => recorded.has(keyOf(u)));
  expect(both).toEqual(both.map((u) => recorded.get(keyOf(u))));
  expect([opened, ...snapshots]).toEqual([opened, ...snapshots].map((u) => recorded.get(keyOf(u!))));

  // Every kind of change was seen both ways, with what the README says it carries.
  const seenBoth = (id: string, state: string) => both.filter((u) => u.jobId === id && u.state === state);
  expect(seenBoth(ids.done, 'RUNNING').map((u) => u.progress)).toContain(33.333332);
  expect(seenBoth(ids.done, 'SUCCEEDED')).toMatchObject([{ progress: 100, message: 'step 3/3' }]);
  // The step its last recorded milestone reached (1 or 2 of 3, as fast as the cancel reached its worker).
  const [cancelled] = seenBoth(ids.cancelled, 'CANCELLED');
  expect([cancelled?.message, cancelled?.progress]).toEqual(expect.arrayContaining([expect.stringMatching(/^step [12]\/3$/)]));
  expect([33.333332, 66.666664]).toContain(cancelled?.progress);
  expect(seenBoth(ids.failing, 'RETRYING')).toMatchObject([{ message: 'flaky failure 1 of 10' }, { message: 'flaky failure 1 of 10' }]);
  expect(seenBoth(ids.failing, 'FAILED')).toMatchObject([{ message: 'flaky failure 2 of 10' }, { message: 'flaky failure 2 of 10' }]);
  expect(seenBoth(ids.failing, 'QUEUED').map((u) => u.message)).toEqual([null, 'replayed']);
  expect(seenBoth(ids.scheduled, 'QUEUED').map((u) => u.message)).toEqual([null, `rescheduled to ${later}`]);
  expect(opened).toMatchObject({ state: 'QUEUED', message: `rescheduled to ${later}` });
}, 120_000);

/** `jobProgress(id)`'s first update (the job as it is). */
async function firstOf(id: string): Promise<{ values: Update[] }> {
  for await (const r of client().iterate<{ jobProgress: Update }>({ query: PROGRESS, variables: { id } })) {
    expect(r.errors).toBeUndefined();
    return { values: [r.data!.jobProgress] };
  }
  throw new Error(`jobProgress(${id}) ended without an update`);
}
