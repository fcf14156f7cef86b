/**
 * A live progress report's `at` is on PostgreSQL's clock, as every other update's is, even when the
 * worker's clock is off: a client resuming `jobUpdates` from 5 s before the latest `at` it saw (the SDK)
 * would otherwise skip what happened in between when a worker's clock runs ahead.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { markRunning, recordProgressMany } from '../../src/db/jobs.js';
import type { JobRow } from '../../src/db/schema.js';
import { jobUpdateSchema, parseMessage, type JobUpdateMessage } from '../../src/messaging/messages.js';
import { Attempt, type AttemptDeps } from '../../workers/attempt.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, SUBMIT } from '../support/graphql.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null }); // this test plays the worker
});
afterAll(async () => {
  await t?.dispose();
});

it('stamps a progress report with the database clock seen at the claim, not the worker’s own', async () => {
  const { sql, nats, names, log } = t.app.deps;
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1 } } })).body.data.submitJob.job.id as string;
  const claimed = (await markRunning(sql, { id, series: 1, leaseMs: 60_000, msgSeq: 1 }))!;
  // As a worker whose clock runs a minute behind PostgreSQL's sees its claim: its updated_at a minute ahead.
  const job: JobRow = { ...claimed, updatedAt: new Date(claimed.updatedAt.getTime() + 60_000) };
  const deps: AttemptDeps = {
    sql,
    nats,
    names,
    log,
    leaseMs: 60_000,
    progressDbIntervalMs: 0,
    recordProgress: async (w) => (await recordProgressMany(sql, [w]))[0]!,
    persist: (_what, fn) => fn(),
  };
  const published = new Promise<JobUpdateMessage>((resolve) => {
    const sub = nats.nc.subscribe(names.jobUpdatesPattern(id), {
      callback: (_e, m) => {
        const u = parseMessage(jobUpdateSchema, m.data) as JobUpdateMessage | null;
        if (u?.message === 'half') (sub.unsubscribe(), resolve(u));
      },
    });
  });
  await nats.nc.flush();
  const attempt = new Attempt(job, undefined as never, deps);
  attempt.progress(50, 'half');
  const u = await published;
  expect(Date.parse(u.at) - Date.now()).toBeGreaterThan(55_000);
  expect(Date.parse(u.at) - Date.now()).toBeLessThan(61_000);
  // Its throttled write lands too (before the app is stopped).
  const progressOf = async () => (await t.env.sql<{ p: number }[]>`select progress as p from jobs where id = ${id}`)[0]!.p;
  for (let i = 0; i < 100 && (await progressOf()) !== 50; i++) await new Promise((r) => setTimeout(r, 20));
  expect(await progressOf()).toBe(50);
});
