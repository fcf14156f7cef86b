/**
 * `retryJobs` of many dead letters while NATS is down (a private nats-server this test stops and starts): the
 * replay commits and is the answer; removing the old dead-letter copies is tried for one window (64 copies)
 * and, NATS not answering, the rest are left to the dead-letter sweep at once, with one warning. Before, each
 * window of 64 waited out its own NATS timeout (about 80 s for a page of 1,000) before the caller got its
 * answer, with a warning per copy. Once NATS is back the replays run and every old copy is removed.
 */
import { expect, it } from 'vitest';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { createLogger } from '../../src/log.js';
import { BUILTIN_HANDLERS } from '../../workers/registry.js';
import { gql } from '../support/graphql.js';
import { outage, outageHandler, outageJob } from '../support/outage-job.js';
import { useAppOnPrivateNats } from '../support/private-nats-app.js';
import { eventually } from '../support/streams.js';

const logs: { msg?: string; left?: number }[] = [];
const s = useAppOnPrivateNats({
  types: [...BUILTIN_JOB_TYPES, outageJob],
  handlers: [...BUILTIN_HANDLERS, outageHandler],
  log: createLogger('warn', 'longrun', { write: (line: string) => void logs.push(JSON.parse(line)) }),
});

const JOBS = 150;
const count = async (where: string) => (await s.env.sql.unsafe<{ n: number }[]>(`select count(*)::int as n from jobs where type = 'test.outage' and ${where}`))[0]!.n;
const deadLetters = async () =>
  (await gql(s.t.url, `{ queueStats { type deadLetters } }`)).body.data.queueStats.find((x: { type: string }) => x.type === 'test.outage')?.deadLetters;

it('answers a bulk replay while NATS is down after one window of copy removals, and the sweep removes the rest once NATS is back', async () => {
  outage.down = true;
  const inputs = Array.from({ length: JOBS }, (_, n) => ({ type: 'test.outage', payload: { n } }));
  const submitted = await gql(s.t.url, `mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { userErrors { code } } }`, { inputs });
  expect(submitted.body.data.submitJobs.userErrors).toEqual([]);
  await eventually(async () => (await count(`state = 'FAILED' and dead_letter_seq is not null`)) === JOBS, 'all dead-lettered', 60_000);
  expect(await deadLetters()).toBe(JOBS);

  await s.nats.stop();
  const r = await gql(s.t.url, `mutation { retryJobs(input: { types: ["test.outage"] }) { retried hasMore userErrors { code } } }`);
  expect(r.body.data.retryJobs).toEqual({ retried: JOBS, hasMore: false, userErrors: [] });
  const warned = logs.filter((l) => l.msg?.startsWith('dead letters: could not remove stale copies'));
  expect(warned.map((l) => l.left)).toEqual([JOBS]); // one window tried, none removed, all left to the sweep

  outage.down = false;
  await s.nats.start();
  await eventually(async () => (await count(`state = 'SUCCEEDED'`)) === JOBS, 'the replays succeeded', 90_000);
  await eventually(async () => (await deadLetters()) === 0, 'every old copy removed', 90_000);
  // The sweep deletes a note once its copy is gone: a moment after the count.
  await eventually(async () => (await s.env.sql`select seq from dead_letter_removals`).length === 0, 'every note of a stale copy removed', 30_000);
}, 240_000);
