/**
 * What a handler's `ctx.progress()` publishes: its `at` on PostgreSQL's clock, as every other update's is,
 * even when the worker's clock is off (a client resuming `jobUpdates` from 5 s before the latest `at` it saw,
 * as the SDK does, would otherwise skip what happened in between when a worker's clock runs ahead); a
 * percentage within 0..100 whatever number it was given; no message for a null one (it was the text "null");
 * and a milestone recorded at a seq is the report published at that seq, also when the seqs reserved for live
 * progress ran out before the write (it recorded the newest, unpublished report there).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { markRunning } from '../../src/db/transitions.js';
import { recordProgressMany } from '../../src/db/attempts.js';
import type { JobRow } from '../../src/db/schema.js';
import { jobUpdateSchema, parseMessage, type JobUpdateMessage } from '../../src/messaging/messages.js';
import { Attempt, type AttemptDeps } from '../../workers/attempt.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, JOB, SUBMIT } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null }); // this test plays the worker
});
afterAll(async () => {
  await t?.dispose();
});

/**
 * A claimed job's attempt, as a worker whose clock is `behindMs` behind PostgreSQL's sees it (its claim's
 * `updated_at` that far ahead), and the progress reports it publishes, as they arrive.
 */
async function claimedAttempt(behindMs: number): Promise<{ id: string; attempt: Attempt; reports: JobUpdateMessage[] }> {
  const { sql, nats, names, log } = t.app.deps;
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1 } } })).body.data.submitJob.job.id as string;
  const token = randomUUID();
  const claimed = (await markRunning(sql, { id, series: 1, leaseMs: 60_000, msgSeq: 1, token }))!;
  const job: JobRow = { ...claimed, updatedAt: new Date(claimed.updatedAt.getTime() + behindMs) };
  const deps: AttemptDeps = {
    nats,
    names,
    log,
    leaseMs: 60_000,
    progressDbIntervalMs: 0,
    recordProgress: async (w) => (await recordProgressMany(sql, [w]))[0]!,
    persist: (_what, fn) => fn(),
  };
  const reports: JobUpdateMessage[] = [];
  nats.nc.subscribe(names.jobUpdatesPattern(id), {
    callback: (_e, m) => {
      const u = parseMessage(jobUpdateSchema, m.data) as JobUpdateMessage | null;
      if (u?.state === 'RUNNING' && u.message) reports.push(u);
    },
  });
  await nats.nc.flush();
  return { id, attempt: new Attempt(job, undefined as never, deps, token), reports };
}

const progressOf = async (id: string) => (await t.env.sql<{ p: number }[]>`select progress as p from jobs where id = ${id}`)[0]!.p;

it('stamps a progress report with the database clock seen at the claim, not the worker’s own', async () => {
  const { id, attempt, reports } = await claimedAttempt(60_000);
  attempt.progress(50, 'half');
  await eventually(() => reports.length === 1, 10_000, 'the report');
  expect(Date.parse(reports[0]!.at) - Date.now()).toBeGreaterThan(55_000);
  expect(Date.parse(reports[0]!.at) - Date.now()).toBeLessThan(61_000);
  // Its throttled write lands too (before the app is stopped).
  await eventually(async () => (await progressOf(id)) === 50, 10_000, 'its write');
  expect(await progressOf(id)).toBe(50);
});

it('reports a percentage within 0..100: Infinity is 100, -Infinity and NaN are 0', async () => {
  const { id, attempt, reports } = await claimedAttempt(0);
  for (const [p, message] of [[Infinity, 'inf'], [-Infinity, '-inf'], [NaN, 'nan'], [250, 'over'], [42.5, 'fine']] as const) {
    attempt.progress(p, message);
  }
  await eventually(() => reports.length === 5, 10_000, 'the reports');
  expect(reports.map((r) => [r.message, r.progress])).toEqual([['inf', 100], ['-inf', 0], ['nan', 0], ['over', 100], ['fine', 42.5]]);
  await eventually(async () => (await progressOf(id)) === 42.5, 10_000, 'its write');
  expect(await progressOf(id)).toBe(42.5);
});

it('reports no message for a null one, as a JavaScript handler clearing its message means it', async () => {
  const { id, attempt } = await claimedAttempt(0);
  const shown = async () => (await gql(t.url, JOB, { id })).body.data.job as { progress: number; progressMessage: string | null };
  attempt.progress(10, 'downloading');
  await eventually(async () => (await shown()).progress === 10, 10_000, 'the first write');
  attempt.progress(20, null as unknown as string);
  await eventually(async () => (await shown()).progress === 20, 10_000, 'the second write');
  expect(await shown()).toMatchObject({ progress: 20, progressMessage: null });
});

it('records at a seq the report published at it, also past the seqs reserved for live progress', async () => {
  const { id, attempt, reports } = await claimedAttempt(0);
  // 1,500 reports before the first write: the claim reserved 1,000 seqs, so the last ones go unpublished.
  for (let i = 1; i <= 1500; i++) attempt.progress(i / 15, `report ${i}`);
  await eventually(() => reports.length === 999, 10_000, 'the published reports');
  const recorded = await eventually(async () => {
    const rows = await t.env.sql<{ seq: number; progress: number; message: string; at: Date }[]>`
      select seq, progress, message, at from job_events where job_id = ${id} and kind = 'progress'`;
    return rows.length ? rows : undefined;
  }, 10_000, 'the write');
  const published = new Map(reports.map((r) => [r.seq, [r.progress, r.message, r.at]]));
  expect(recorded.map((r) => [r.progress, r.message, r.at.toISOString()])).toEqual(recorded.map((r) => published.get(r.seq)));
  expect(recorded.at(-1)!.message).toBe('report 999');
  // The write renewed the reservation: the next report goes out.
  attempt.progress(100, 'more');
  await eventually(() => reports.at(-1)?.message === 'more', 10_000, 'a report after the renewal');
});
